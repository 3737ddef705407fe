import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ClaudeStreamParser, parseClaudeTranscript } from '../../activities/agents/claudeStream.js';
import type { AgentEvent } from '../../workflows/types.js';
import { fixturePath } from '../helpers/paths.js';

const fixture = (name: string): string => readFileSync(fixturePath('agents', name), 'utf8');
type Kind = AgentEvent['kind'];
const only = <K extends Kind>(events: AgentEvent[], kind: K): Extract<AgentEvent, { kind: K }>[] =>
  events.filter((e): e is Extract<AgentEvent, { kind: K }> => e.kind === kind);

const assistantToolUse = (msgId: string, id: string, name: string, input: unknown): string =>
  JSON.stringify({
    type: 'assistant',
    message: { id: msgId, role: 'assistant', content: [{ type: 'tool_use', id, name, input }], usage: { input_tokens: 3, output_tokens: 1 } },
    session_id: 's',
  });
const userToolResult = (results: { id: string; content: unknown; isError?: boolean }[], toolUseResult?: unknown): string =>
  JSON.stringify({
    type: 'user',
    message: { role: 'user', content: results.map((r) => ({ type: 'tool_result', tool_use_id: r.id, content: r.content, is_error: r.isError ?? false })) },
    session_id: 's',
    ...(toolUseResult !== undefined ? { tool_use_result: toolUseResult } : {}),
  });

describe('ClaudeStreamParser on real CLI transcripts', () => {
  test('basic query (CLI 2.1.7): init, message, usage from result.usage, final', () => {
    const events = parseClaudeTranscript(fixture('stream-json.basic-query.claude-2.1.7.ndjson'));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['init', 'message', 'usage', 'final'],
    );
    assert.deepEqual(events[0], { kind: 'init', at: 0, sessionId: '1d1e46f9-35c7-4834-b529-846d5bb82288', model: 'claude-opus-4-5-20251101', cliVersion: '2.1.7' });
    assert.deepEqual(events[1], { kind: 'message', at: 1000, text: '4' });
    // No modelUsage in this result: its `usage` is used (output 25, not the assistant line's 5).
    assert.deepEqual(events[2], { kind: 'usage', at: 2000, inputTokens: 10, outputTokens: 25, cacheReadTokens: 0, cacheWriteTokens: 21570 });
    assert.deepEqual(events[3], {
      kind: 'final',
      at: 2000,
      text: '4',
      isError: false,
      subtype: 'success',
      permissionDenials: 0,
      reportedCostUsd: 0.1354875,
      numTurns: 1,
    });
  });

  test('ls session (CLI 2.1.3): Bash tool call paired with its result, usage from modelUsage', () => {
    const events = parseClaudeTranscript(fixture('stream-json.ls-tool-session.claude-2.1.x.jsonl'));
    const calls = only(events, 'tool_call');
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.equal(call.id, 'toolu_01BeipFBP3sUY3EAwVg3qQnE');
    assert.equal(call.name, 'Bash');
    assert.deepEqual(call.input, { command: 'ls -la', description: 'List files in current directory' });
    assert.match(call.result, /^total 1976\n/);
    assert.equal(call.isError, false);
    assert.equal(call.exitCode, 0);
    assert.equal(call.at, 2000, 'emitted when the user line with the result is read');
    // modelUsage (per-model totals) wins over the main-loop usage (input 18, output 424).
    assert.deepEqual(only(events, 'usage'), [{ kind: 'usage', at: 3000, inputTokens: 38, outputTokens: 765, cacheReadTokens: 28775, cacheWriteTokens: 31159 }]);
    const final = only(events, 'final')[0]!;
    assert.equal(final.text, 'Here are the files in the current directory.');
    assert.equal(final.reportedCostUsd, 0.24722425);
    assert.equal(final.numTurns, 2);
    assert.equal(final.permissionDenials, 0);
  });
});

describe('ClaudeStreamParser on synthetic transcripts', () => {
  test('healthy session: failing and passing Bash exit codes, Edit → file_change right after its call', () => {
    const events = parseClaudeTranscript(fixture('claude.healthy-edit-retest.synthetic.jsonl'));
    const calls = only(events, 'tool_call');
    assert.deepEqual(
      calls.map((c) => c.name),
      ['Read', 'Read', 'Bash', 'Read', 'Edit', 'Bash', 'Read', 'Bash', 'Bash', 'Bash', 'Bash'],
    );
    const [firstTest, secondTest] = calls.filter((c) => c.name === 'Bash');
    assert.equal(firstTest!.isError, true);
    assert.equal(firstTest!.exitCode, 1);
    assert.match(firstTest!.result, /^Exit code 1\n/);
    assert.equal(secondTest!.isError, false);
    assert.equal(secondTest!.exitCode, 0);
    const editIndex = events.findIndex((e) => e.kind === 'tool_call' && e.name === 'Edit');
    assert.deepEqual(events[editIndex + 1], { kind: 'file_change', at: events[editIndex]!.at, paths: ['/workspace/src/slugify.js'] });
    assert.equal(only(events, 'file_change').length, 1, 'Read and Bash change no file');
  });

  test('usage: one event, from the result line, although assistant lines repeat message ids with partial usage', () => {
    const text = fixture('claude.healthy-edit-retest.synthetic.jsonl');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.find((l) => l.type === 'result') as { modelUsage: Record<string, Record<string, number>> };
    const model = Object.values(result.modelUsage)[0]!;
    const usage = only(parseClaudeTranscript(text), 'usage');
    assert.deepEqual(usage, [
      {
        kind: 'usage',
        at: (lines.length - 1) * 1000,
        inputTokens: model.inputTokens,
        outputTokens: model.outputTokens,
        cacheReadTokens: model.cacheReadInputTokens,
        cacheWriteTokens: model.cacheCreationInputTokens,
      },
    ]);
  });

  test('permission denials: denied Edit is no file change; final counts the denials and is not an error', () => {
    const events = parseClaudeTranscript(fixture('claude.permission-denials.synthetic.jsonl'));
    const denied = only(events, 'tool_call').filter((c) => c.isError);
    assert.deepEqual(
      denied.map((c) => [c.name, c.exitCode]),
      [
        ['Bash', undefined],
        ['Edit', undefined],
      ],
    );
    assert.match(denied[1]!.result, /requested permissions to use Edit/);
    assert.equal(only(events, 'file_change').length, 0);
    const final = only(events, 'final')[0]!;
    assert.equal(final.permissionDenials, 2);
    assert.equal(final.isError, false);
    assert.equal(final.subtype, 'success');
  });

  test('API error: is_error true with subtype success gives an error final', () => {
    const events = parseClaudeTranscript(fixture('claude.api-error.synthetic.jsonl'));
    const final = only(events, 'final')[0]!;
    assert.equal(final.isError, true);
    assert.equal(final.subtype, 'success');
    assert.match(final.text, /^API Error: 529 /);
    assert.equal(events.at(-1), final);
  });
});

describe('ClaudeStreamParser line by line', () => {
  test('a tool_call is emitted only when its result arrives, paired by id across parallel calls', () => {
    const p = new ClaudeStreamParser();
    assert.deepEqual(p.push(assistantToolUse('msg_1', 'toolu_a', 'Read', { file_path: '/workspace/a.ts' }), 1), []);
    assert.deepEqual(p.push(assistantToolUse('msg_1', 'toolu_b', 'Grep', { pattern: 'x' }), 2), []);
    const out = p.push(
      userToolResult([
        { id: 'toolu_b', content: 'src/a.ts:1:x' },
        { id: 'toolu_a', content: [{ type: 'text', text: 'line one' }, { type: 'image', source: {} }, { type: 'text', text: 'line two' }] },
      ]),
      3,
    );
    assert.deepEqual(
      out.map((e) => (e.kind === 'tool_call' ? [e.id, e.name, e.result] : e.kind)),
      [
        ['toolu_b', 'Grep', 'src/a.ts:1:x'],
        ['toolu_a', 'Read', 'line one\n[image]\nline two'],
      ],
    );
    // Each id is paired once: a duplicate result is ignored.
    assert.deepEqual(p.push(userToolResult([{ id: 'toolu_a', content: 'again' }]), 4), []);
  });

  test('Bash exit codes: `Exit code N` on errors, 0 on plain success, none when grep-style codes are interpreted', () => {
    const p = new ClaudeStreamParser();
    p.push(assistantToolUse('m', 't1', 'Bash', { command: 'npm test' }));
    const [failed] = p.push(userToolResult([{ id: 't1', content: 'Exit code 137\nKilled', isError: true }], 'Error: Exit code 137\nKilled'));
    assert.equal(failed?.kind === 'tool_call' && failed.exitCode, 137);
    p.push(assistantToolUse('m', 't2', 'Bash', { command: 'grep -r nothing .' }));
    const [grep] = p.push(userToolResult([{ id: 't2', content: '' }], { stdout: '', stderr: '', interrupted: false, returnCodeInterpretation: 'No matches found' }));
    assert.ok(grep?.kind === 'tool_call');
    assert.equal(grep.isError, false);
    assert.equal(grep.exitCode, undefined);
    p.push(assistantToolUse('m', 't3', 'Bash', { command: 'sleep 999' }));
    const [timeout] = p.push(userToolResult([{ id: 't3', content: 'Command timed out after 2m 0.0s', isError: true }]));
    assert.ok(timeout?.kind === 'tool_call');
    assert.equal(timeout.exitCode, undefined);
    p.push(assistantToolUse('m', 't4', 'Read', { file_path: '/workspace/x' }));
    const [read] = p.push(userToolResult([{ id: 't4', content: 'x' }], { type: 'text', file: { filePath: '/workspace/x' } }));
    assert.ok(read?.kind === 'tool_call');
    assert.equal(read.exitCode, undefined, 'only Bash has exit codes');
  });

  test('file changes from Write, MultiEdit and NotebookEdit; not from a failed Write', () => {
    const p = new ClaudeStreamParser();
    const run = (id: string, name: string, input: unknown, isError = false): AgentEvent[] => {
      p.push(assistantToolUse('m', id, name, input));
      return p.push(userToolResult([{ id, content: isError ? 'Error: file is read-only' : 'ok', isError }]));
    };
    assert.deepEqual(only(run('w', 'Write', { file_path: '/workspace/new.ts', content: 'x' }), 'file_change')[0]?.paths, ['/workspace/new.ts']);
    assert.deepEqual(only(run('m', 'MultiEdit', { file_path: '/workspace/m.ts', edits: [] }), 'file_change')[0]?.paths, ['/workspace/m.ts']);
    assert.deepEqual(only(run('n', 'NotebookEdit', { notebook_path: '/workspace/n.ipynb', new_source: '' }), 'file_change')[0]?.paths, ['/workspace/n.ipynb']);
    assert.deepEqual(only(run('f', 'Write', { file_path: '/workspace/ro.ts', content: 'x' }, true), 'file_change'), []);
  });

  test('long results are truncated to ~4 KB, keeping head and tail', () => {
    const p = new ClaudeStreamParser();
    p.push(assistantToolUse('m', 't', 'Bash', { command: 'npm test' }));
    const big = 'HEAD-MARK\n' + 'x'.repeat(20_000) + '\nTAIL-MARK';
    const [ev] = p.push(userToolResult([{ id: 't', content: big }]));
    assert.ok(ev?.kind === 'tool_call');
    assert.ok(ev.result.length <= 4096, `length ${ev.result.length}`);
    assert.ok(ev.result.length > 3500, `length ${ev.result.length}`);
    assert.ok(ev.result.startsWith('HEAD-MARK'));
    assert.ok(ev.result.endsWith('TAIL-MARK'));
    assert.match(ev.result, /…\[\d+ chars omitted\]…/);
  });

  test('non-JSON lines, unknown types and unknown subtypes are ignored', () => {
    const p = new ClaudeStreamParser();
    for (const line of [
      '',
      '   ',
      'Warning: something on stdout',
      '{not json',
      '[1,2,3]',
      '"a string"',
      JSON.stringify({ type: 'stream_event', event: { type: 'content_block_delta' } }),
      JSON.stringify({ type: 'system', subtype: 'compact_boundary', compact_metadata: {} }),
      JSON.stringify({ type: 'assistant' }),
      JSON.stringify({ type: 'assistant', message: { content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'text', text: '   ' }] } }),
      JSON.stringify({ type: 'user', message: { role: 'user', content: 'a plain prompt' } }),
      JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'never-seen', content: 'x' }] } }),
      JSON.stringify({ type: 'brand_new_type', payload: 1 }),
    ]) {
      assert.deepEqual(p.push(line, 5), [], line);
    }
  });

  test('error results without `result` take their text from errors[]; several results emit usage growth only', () => {
    const p = new ClaudeStreamParser();
    const model = (input: number, output: number) => ({ 'claude-sonnet-4-5': { inputTokens: input, outputTokens: output, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } });
    const first = p.push(JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'one', modelUsage: model(100, 10), total_cost_usd: 0.01 }), 1);
    assert.deepEqual(only(first, 'usage').map((u) => [u.inputTokens, u.outputTokens]), [[100, 10]]);
    const second = p.push(
      JSON.stringify({ type: 'result', subtype: 'error_during_execution', is_error: true, errors: ['Tool permission stream closed'], modelUsage: model(250, 40), total_cost_usd: 0.03 }),
      2,
    );
    assert.deepEqual(only(second, 'usage').map((u) => [u.inputTokens, u.outputTokens]), [[150, 30]]);
    const final = only(second, 'final')[0]!;
    assert.equal(final.text, 'Tool permission stream closed');
    assert.equal(final.isError, true);
    assert.equal(final.subtype, 'error_during_execution');
    assert.equal(final.reportedCostUsd, 0.03);
  });
});
