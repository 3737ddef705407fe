import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaudeStreamParser } from '../../activities/agents/claudeStream.js';
import { CodexStreamParser } from '../../activities/agents/codexStream.js';

test('Claude Code: a tool call whose result never came is pending (what the agent was doing when stopped)', () => {
  const p = new ClaudeStreamParser();
  const use = (id: string, command: string) =>
    JSON.stringify({ type: 'assistant', message: { id: `m-${id}`, role: 'assistant', content: [{ type: 'tool_use', id, name: 'Bash', input: { command } }] } });
  const result = (id: string) => JSON.stringify({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok', is_error: false }] } });
  p.push(use('t1', 'ls'));
  assert.deepEqual(p.pendingCalls(), [{ name: 'Bash', input: { command: 'ls' } }]);
  assert.equal(p.push(result('t1')).filter((e) => e.kind === 'tool_call').length, 1);
  assert.deepEqual(p.pendingCalls(), []);
  p.push(use('t2', 'sleep 60'));
  assert.deepEqual(p.pendingCalls(), [{ name: 'Bash', input: { command: 'sleep 60' } }]);
});

test('Codex: a command started and not completed is pending', () => {
  const p = new CodexStreamParser();
  p.push(JSON.stringify({ type: 'item.started', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc "sleep 60"', status: 'in_progress' } }));
  assert.deepEqual(p.pendingCalls(), [{ name: 'exec_command', input: { command: 'bash -lc "sleep 60"' } }]);
  p.push(JSON.stringify({ type: 'item.completed', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc "sleep 60"', aggregated_output: '', exit_code: 0, status: 'completed' } }));
  assert.deepEqual(p.pendingCalls(), []);
});
