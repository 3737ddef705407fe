import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CodexStreamParser, parseCodexTranscript } from '../../activities/agents/codexStream.js';
import type { AgentEvent } from '../../workflows/types.js';
import { fixturePath } from '../helpers/paths.js';

const fixture = (name: string): string => readFileSync(fixturePath('agents', name), 'utf8');
const only = <K extends AgentEvent['kind']>(events: AgentEvent[], kind: K): Extract<AgentEvent, { kind: K }>[] =>
  events.filter((e): e is Extract<AgentEvent, { kind: K }> => e.kind === kind);
const completed = (item: Record<string, unknown>): string => JSON.stringify({ type: 'item.completed', item });

describe('CodexStreamParser on the docs sample', () => {
  test('init, command, message, usage (cached split out of input), final', () => {
    const events = parseCodexTranscript(fixture('codex-exec-json.openai-docs-sample.jsonl'));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['init', 'tool_call', 'message', 'usage', 'final'],
    );
    assert.deepEqual(events[0], { kind: 'init', at: 0, sessionId: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
    const call = only(events, 'tool_call')[0]!;
    assert.equal(call.at, 4000, 'from item.completed, not item.started');
    assert.equal(call.id, 'item_1');
    assert.equal(call.name, 'exec_command');
    assert.deepEqual(call.input, { command: 'bash -lc ls' });
    assert.match(call.result, /\nAGENTS\.md\n/);
    assert.equal(call.exitCode, 0);
    assert.equal(call.isError, false);
    assert.deepEqual(only(events, 'usage'), [{ kind: 'usage', at: 7000, inputTokens: 24763 - 24448, outputTokens: 122, cacheReadTokens: 24448, cacheWriteTokens: 0 }]);
    assert.deepEqual(events[4], {
      kind: 'final',
      at: 7000,
      text: 'Yep — there’s a `README.md` in the repository root.',
      isError: false,
      subtype: 'turn.completed',
      permissionDenials: 0,
    });
  });
});

describe('CodexStreamParser on synthetic transcripts', () => {
  test('patches: an apply_patch tool call, then a file_change with the paths', () => {
    const events = parseCodexTranscript(fixture('codex.healthy-flaky-retest.synthetic.jsonl'));
    const i = events.findIndex((e) => e.kind === 'tool_call' && e.name === 'apply_patch');
    assert.ok(i >= 0);
    const patch = events[i] as Extract<AgentEvent, { kind: 'tool_call' }>;
    assert.deepEqual(patch.input, { changes: [{ path: '/workspace/src/retry.ts', kind: 'update' }] });
    assert.equal(patch.isError, false);
    assert.deepEqual(events[i + 1], { kind: 'file_change', at: patch.at, paths: ['/workspace/src/retry.ts'] });
    const tests = only(events, 'tool_call').filter((c) => c.name === 'exec_command' && (c.input as { command: string }).command.includes('npm test'));
    assert.deepEqual(
      tests.map((c) => [c.exitCode, c.isError]),
      [
        [1, true],
        [1, true],
        [1, true],
        [0, false],
      ],
    );
  });

  test('a failed turn: error item and stream error as messages, final isError', () => {
    const events = parseCodexTranscript(fixture('codex.turn-failed.synthetic.jsonl'));
    const messages = only(events, 'message').map((m) => m.text);
    assert.equal(messages.length, 2);
    assert.match(messages[0]!, /^error: Reconnecting\.\.\. 1\/5 \(stream disconnected/);
    assert.match(messages[1]!, /^error: stream disconnected before completion/);
    const final = events.at(-1);
    assert.ok(final?.kind === 'final');
    assert.equal(final.isError, true);
    assert.equal(final.subtype, 'turn.failed');
    assert.match(final.text, /^stream disconnected before completion/);
    assert.equal(only(events, 'usage').length, 0);
  });
});

describe('CodexStreamParser line by line', () => {
  test('failed and declined commands are errors; a null exit code gives no exitCode', () => {
    const p = new CodexStreamParser();
    const [declined] = p.push(completed({ id: 'i1', type: 'command_execution', command: 'rm -rf /', aggregated_output: '', exit_code: null, status: 'declined' }), 1);
    assert.ok(declined?.kind === 'tool_call');
    assert.equal(declined.isError, true);
    assert.equal('exitCode' in declined, false);
    const [nonZero] = p.push(completed({ id: 'i2', type: 'command_execution', command: 'false', aggregated_output: '', exit_code: 2, status: 'completed' }), 2);
    assert.ok(nonZero?.kind === 'tool_call');
    assert.equal(nonZero.isError, true);
    assert.equal(nonZero.exitCode, 2);
  });

  test('a failed patch is an apply_patch error and no file change', () => {
    const p = new CodexStreamParser();
    const out = p.push(completed({ id: 'i', type: 'file_change', changes: [{ path: '/workspace/a.ts', kind: 'update' }], status: 'failed' }), 1);
    assert.equal(out.length, 1);
    assert.ok(out[0]?.kind === 'tool_call');
    assert.equal(out[0].name, 'apply_patch');
    assert.equal(out[0].isError, true);
  });

  test('MCP tool calls: named mcp__server__tool, result text or error message', () => {
    const p = new CodexStreamParser();
    const [ok] = p.push(
      completed({ id: 'm1', type: 'mcp_tool_call', server: 'docs', tool: 'search', arguments: { q: 'retry' }, result: { content: [{ type: 'text', text: 'found 2' }], structured_content: null }, error: null, status: 'completed' }),
      1,
    );
    assert.deepEqual(ok, { kind: 'tool_call', at: 1, id: 'm1', name: 'mcp__docs__search', input: { q: 'retry' }, result: 'found 2', isError: false });
    const [bad] = p.push(completed({ id: 'm2', type: 'mcp_tool_call', server: 'docs', tool: 'search', arguments: {}, result: null, error: { message: 'server gone' }, status: 'failed' }), 2);
    assert.ok(bad?.kind === 'tool_call');
    assert.equal(bad.isError, true);
    assert.equal(bad.result, 'server gone');
  });

  test('final text is the last agent message; reasoning, todo lists, started items and unknown lines are ignored', () => {
    const p = new CodexStreamParser();
    const ignored = [
      'not json',
      '',
      JSON.stringify({ type: 'turn.started' }),
      JSON.stringify({ type: 'item.started', item: { id: 'x', type: 'command_execution', command: 'ls', aggregated_output: '', status: 'in_progress' } }),
      JSON.stringify({ type: 'item.updated', item: { id: 't', type: 'todo_list', items: [] } }),
      completed({ id: 'r', type: 'reasoning', text: '**thinking**' }),
      completed({ id: 't', type: 'todo_list', items: [{ text: 'a', completed: false }] }),
      completed({ id: 'n', type: 'collab_tool_call', tool: 'wait' }),
      JSON.stringify({ type: 'item.plan.delta', item_id: 'p', delta: 'x' }),
      JSON.stringify({ type: 'future.event', data: 1 }),
    ];
    for (const line of ignored) assert.deepEqual(p.push(line, 1), [], line);
    p.push(completed({ id: 'a1', type: 'agent_message', text: 'first' }), 2);
    p.push(completed({ id: 'a2', type: 'agent_message', text: 'second' }), 3);
    const out = p.push(JSON.stringify({ type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 4, output_tokens: 3, reasoning_output_tokens: 1 } }), 4);
    assert.deepEqual(out, [
      { kind: 'usage', at: 4, inputTokens: 6, outputTokens: 3, cacheReadTokens: 4, cacheWriteTokens: 0 },
      { kind: 'final', at: 4, text: 'second', isError: false, subtype: 'turn.completed', permissionDenials: 0 },
    ]);
  });
});
