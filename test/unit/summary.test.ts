import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatDuration,
  formatUsd,
  MAX_CHARS,
  renderCancelled,
  renderEscalation,
  renderFailure,
  renderHandedOver,
  renderRejection,
  renderSuccess,
  renderTimedOut,
  type EscalationSummaryInput,
  type SummaryFormat,
} from '../../workflows/summary.js';
import type { AttemptRecord, Spend, ValidationResult } from '../../workflows/types.js';

const FORMATS: SummaryFormat[] = ['markdown', 'mrkdwn'];

const spend = (tokens: number, usd: number): Spend => ({
  inputTokens: Math.round(tokens * 0.1),
  outputTokens: Math.round(tokens * 0.05),
  cacheReadTokens: Math.round(tokens * 0.8),
  cacheWriteTokens: tokens - Math.round(tokens * 0.1) - Math.round(tokens * 0.05) - Math.round(tokens * 0.8),
  tokens,
  usd,
  requests: 42,
  refusals: 0,
});

const failingTests = (names: string[], tail = 'not ok 1 - slugify collapses repeated dashes\n# fail 1'): ValidationResult => ({
  passed: false,
  exitCode: 1,
  outputTail: tail,
  failingTests: names,
  durationMs: 4100,
  command: 'npm test',
});

const attempt = (n: number, over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  attempt: n,
  end: 'agent_exited',
  agent: 'claude-code',
  model: 'claude-sonnet-4-5',
  finalMessage: `Attempt ${n}: changed the regex in src/slugify.js to collapse dashes.`,
  exitCode: 0,
  spend: spend(120_000, 0.4213),
  durationMs: 312_000,
  diffStat: ' src/slugify.js | 4 ++--\n 1 file changed, 2 insertions(+), 2 deletions(-)',
  filesChanged: ['src/slugify.js'],
  commands: [
    { command: 'npm test', exitCode: 1, isError: true },
    { command: 'git diff --stat', exitCode: 0, isError: false },
  ],
  validation: failingTests(['slugify collapses repeated dashes']),
  failure: 'tests failed (exit code 1)',
  lastEvents: [],
  ...over,
});

const goal = { title: 'Fix slug generation for titles with punctuation', task: 'Titles like "Hello,  World" produce `hello---world`; they should produce `hello-world`. Keep `slugify<T>` generic.' };

const base = (over: Partial<EscalationSummaryInput>): EscalationSummaryInput => ({
  goal,
  attempts: [attempt(1)],
  spend: spend(1_234_567, 5.1234),
  durationMs: 3_723_000,
  wipBranch: 'nightshift/fix-slug-generation-wip',
  reason: 'the tests still fail after 3 attempts',
  ...over,
});

/** Parts every escalation has, whatever stopped it. */
function assertCommonParts(out: string, format: SummaryFormat, input: EscalationSummaryInput): void {
  assert.ok(out.includes(goal.title), 'goal title');
  assert.ok(out.includes('hello---world'), 'task excerpt');
  assert.ok(out.includes(input.reason), 'reason');
  assert.ok(out.includes('1h 2m'), 'total time');
  assert.ok(out.includes('1,234,567'), 'total tokens');
  assert.ok(out.includes('$5.12'), 'total dollars');
  if (input.wipBranch) assert.ok(out.includes(input.wipBranch), 'wip branch');
  assert.match(out, /guidance[^\n]*fresh budget/, 'reply with guidance');
  assert.ok(out.includes('`cancel`'), 'reply cancel');
  assert.ok(out.includes('`take over`'), 'reply take over');
  assert.ok(out.length <= MAX_CHARS[format], `bounded: ${out.length}`);
  assert.equal((out.match(/```/g) ?? []).length % 2, 0, 'code fences balanced');
  if (format === 'mrkdwn') {
    assert.doesNotMatch(out.replace(/```[\s\S]*?```/g, ''), /^#/m, 'no headings in mrkdwn (outside code blocks)');
    assert.doesNotMatch(out, /\*\*/, 'no double-star bold in mrkdwn');
    assert.ok(out.includes('slugify&lt;T&gt;'), 'mrkdwn escapes < and >');
    assert.ok(!out.includes('slugify<T>'));
  } else {
    assert.match(out, /^### /m, 'markdown headings');
    assert.ok(out.includes('**'), 'markdown bold');
    assert.ok(out.includes('slugify<T>'));
  }
}

describe('renderEscalation', () => {
  test('budget escalation: which budget, spent vs cap with units, and the attempt', () => {
    const input = base({
      reason: 'budget: usd (spent 5.1234 of 5)',
      attempts: [attempt(1, { end: 'budget', budget: { kind: 'usd', spent: 5.1234, cap: 5 }, validation: undefined, failure: undefined, exitCode: null })],
    });
    for (const f of FORMATS) {
      const out = renderEscalation(input, f);
      assertCommonParts(out, f, input);
      assert.ok(out.includes('dollar budget: $5.12 spent of a $5.00 cap'), f);
      assert.ok(out.includes('Attempt 1: changed the regex'), `${f}: approach`);
      assert.ok(out.includes('src/slugify.js | 4 ++--'), `${f}: diff stat`);
      assert.match(out, /`npm test` → exit 1/, `${f}: commands with exit codes`);
    }
    const time = renderEscalation(base({ attempts: [attempt(1, { end: 'budget', budget: { kind: 'time', spent: 1_860_000, cap: 1_800_000 } })] }), 'markdown');
    assert.ok(time.includes('time budget: 31m 0s spent of a 30m 0s cap'));
    const tokens = renderEscalation(base({ attempts: [attempt(1, { end: 'budget', budget: { kind: 'tokens', spent: 2_000_311, cap: 2_000_000 } })] }), 'mrkdwn');
    assert.ok(tokens.includes('token budget: 2,000,311 tokens spent of a 2,000,000-token cap'));
  });

  test('stuck escalation: the rule, its message and evidence', () => {
    const input = base({
      reason: 'stuck: repeated_failing_call — the same call failed 3 times',
      attempts: [
        attempt(1, {
          end: 'stuck',
          stuck: {
            rule: 'repeated_failing_call',
            repeats: 3,
            startedAt: 1_700_000_000_000,
            decidedAt: 1_700_000_060_000,
            message: 'the same call failed 3 times with no file change in between: Bash: npm run build',
            evidence: ['call: Bash: npm run build', "error: src/config.ts(<n>): error TS2322: Type 'string' is not assignable to type 'number'."],
          },
        }),
      ],
    });
    for (const f of FORMATS) {
      const out = renderEscalation(input, f);
      assertCommonParts(out, f, input);
      assert.ok(out.includes('`repeated_failing_call`'), f);
      assert.ok(out.includes('the same call failed 3 times with no file change in between'), f);
      assert.ok(out.includes('call: Bash: npm run build'), f);
      assert.ok(out.includes('error TS2322'), f);
    }
  });

  test('tests failing after 3 attempts: every attempt, its failing tests and an output excerpt in a code block', () => {
    const input = base({
      attempts: [1, 2, 3].map((n) =>
        attempt(n, { validation: failingTests([`test ${n} a`, `test ${n} b`], `FAIL output of attempt ${n}\nexpected 'hello-world'`) }),
      ),
    });
    for (const f of FORMATS) {
      const out = renderEscalation(input, f);
      assertCommonParts(out, f, input);
      assert.ok(out.includes('3 attempts'), f);
      for (const n of [1, 2, 3]) {
        assert.ok(out.includes(`Attempt ${n} — claude-code (claude-sonnet-4-5)`), `${f}: attempt ${n}`);
        assert.ok(out.includes(`\`test ${n} a\``) && out.includes(`\`test ${n} b\``), `${f}: failing tests of ${n}`);
        assert.match(out, new RegExp('```\\n[^`]*FAIL output of attempt ' + n), `${f}: output block of ${n}`);
      }
      assert.ok(out.includes('exit 1'), f);
    }
  });

  test('infrastructure error with no attempt: the code and message, and still the next steps', () => {
    const input = base({
      attempts: [],
      spend: spend(0, 0),
      durationMs: 4_000,
      wipBranch: undefined,
      reason: 'infrastructure error during prepare: docker is not reachable',
      infraError: { code: 'DOCKER_UNAVAILABLE', message: 'prepare: connect ENOENT /var/run/docker.sock' },
    });
    for (const f of FORMATS) {
      const out = renderEscalation(input, f);
      assert.ok(out.includes('`DOCKER_UNAVAILABLE`'), f);
      assert.ok(out.includes('connect ENOENT /var/run/docker.sock'), f);
      assert.ok(out.includes('No attempt ran.'), f);
      assert.ok(out.includes('none was pushed'), f);
      assert.ok(out.includes('$0.00') && out.includes('4s'), f);
      assert.ok(out.includes('`take over`') && out.includes('`cancel`'), f);
    }
  });

  test('deterministic: the same input renders the same text', () => {
    const input = base({ attempts: [attempt(1), attempt(2, { end: 'agent_error', failure: 'the agent ended with an error' })] });
    for (const f of FORMATS) assert.equal(renderEscalation(structuredClone(input), f), renderEscalation(input, f));
  });

  test('bounded: huge outputs and many attempts shrink excerpts first, keeping the reason and next steps', () => {
    const huge = 'x'.repeat(200) + '\n';
    const input = base({
      goal: { title: goal.title, task: goal.task + ' ' + 'more detail '.repeat(2000) },
      attempts: Array.from({ length: 9 }, (_, i) =>
        attempt(i + 1, {
          finalMessage: 'I tried a lot. '.repeat(500),
          diffStat: ' src/file.ts | 1 +\n'.repeat(300),
          commands: Array.from({ length: 30 }, (_, k) => ({ command: `npm test -- --shard=${k}`, exitCode: 1, isError: true })),
          validation: failingTests(Array.from({ length: 50 }, (_, k) => `test ${k}`), huge.repeat(500) + 'LAST LINE OF OUTPUT'),
        }),
      ),
    });
    for (const f of FORMATS) {
      const out = renderEscalation(input, f);
      assert.ok(out.length <= MAX_CHARS[f], `${f}: ${out.length}`);
      assert.ok(out.includes(input.reason), f);
      assert.ok(out.includes('`take over`'), f);
      assert.ok(out.includes('Attempt 9'), `${f}: the last attempt is shown`);
      assert.equal((out.match(/```/g) ?? []).length % 2, 0, `${f}: fences balanced`);
    }
    // Markdown has room for the end of the test output of the last attempt.
    assert.ok(renderEscalation(input, 'markdown').includes('LAST LINE OF OUTPUT'));
  });
});

describe('renderSuccess', () => {
  const input = {
    title: 'Fix slug generation',
    task: goal.task,
    source: { kind: 'linear' as const, issueId: 'uuid-1', issueIdentifier: 'ENG-42', issueUrl: 'https://linear.app/acme/issue/ENG-42' },
    testsBefore: failingTests(['slugify collapses repeated dashes']),
    attempts: [attempt(1), attempt(2, { validation: { ...failingTests([]), passed: true, exitCode: 0 }, failure: undefined })],
    spend: spend(98_765, 0.042),
    durationMs: 754_000,
    workflowId: 'linear-uuid-1',
  };

  test('report: PR link, branch, tests before and after, attempts, tokens, cost, duration', () => {
    const report = { ...input, prUrl: 'https://github.com/acme/slugger/pull/7', branch: 'nightshift/fix-slug-generation' };
    const md = renderSuccess(report, 'markdown');
    const slack = renderSuccess(report, 'mrkdwn');
    assert.ok(md.includes('[https://github.com/acme/slugger/pull/7](https://github.com/acme/slugger/pull/7)'));
    assert.ok(slack.includes('<https://github.com/acme/slugger/pull/7|https://github.com/acme/slugger/pull/7>'));
    for (const out of [md, slack]) {
      assert.ok(out.includes('`nightshift/fix-slug-generation`'));
      assert.ok(out.includes('before failing (exit 1, 1 failing test) → after passing'));
      assert.match(out, /Attempts:\*{1,2} 2/);
      assert.ok(out.includes('98,765'));
      assert.ok(out.includes('$0.0420'));
      assert.ok(out.includes('12m 34s'));
    }
    assert.equal(renderSuccess(report, 'mrkdwn'), slack);
  });

  test('PR body (no prUrl yet): origin link, task excerpt, agent summary, diff stat, run id', () => {
    const body = renderSuccess(input, 'markdown');
    assert.ok(body.includes('[ENG-42](https://linear.app/acme/issue/ENG-42)'));
    assert.ok(body.includes('> Titles like'));
    assert.ok(body.includes('Attempt 2: changed the regex'));
    assert.ok(body.includes('src/slugify.js | 4 ++--'));
    assert.ok(body.includes('`linear-uuid-1`'));
    assert.ok(!body.includes('Pull request opened'));
  });
});

describe('short messages', () => {
  const s = spend(50_000, 0.25);
  test('rejection, cancellation, hand-over, time-out, failure carry their facts in both dialects', () => {
    for (const f of FORMATS) {
      const rejection = renderRejection({ reason: 'no test command can show success for "make it nicer"', title: 'Make it nicer' }, f);
      assert.ok(rejection.includes('Make it nicer') && rejection.includes('no test command can show success'), f);
      const cancelled = renderCancelled({ by: 'U123', reason: 'replied cancel', wipBranch: 'nightshift/x-wip', attempts: 2, spend: s }, f);
      assert.ok(cancelled.includes('U123') && cancelled.includes('replied cancel') && cancelled.includes('`nightshift/x-wip`') && cancelled.includes('2 attempts') && cancelled.includes('$0.2500'), f);
      const handed = renderHandedOver({ by: 'alice', wipBranch: 'nightshift/x-wip', attempts: 1, spend: s }, f);
      assert.ok(handed.includes('alice') && handed.includes('git fetch origin nightshift/x-wip') && handed.includes('1 attempt;'), f);
      assert.ok(renderHandedOver({ by: 'alice', attempts: 0, spend: s }, f).includes('No partial work was pushed'), f);
      const timedOut = renderTimedOut({ waitedMs: 7 * 24 * 3_600_000, wipBranch: 'nightshift/x-wip' }, f);
      assert.ok(timedOut.includes('7d 0h') && timedOut.includes('`nightshift/x-wip`'), f);
      const unapproved = renderTimedOut({ waitedMs: 3_600_000, waitedFor: 'approval of the change', note: 'Nothing was pushed; the change is kept on the worker.' }, f);
      assert.ok(unapproved.includes('no approval of the change within') && unapproved.includes('Nothing was pushed') && !unapproved.includes('Partial work'), f);
      const failure = renderFailure({ code: 'GITHUB_FAILED', message: 'pulls.create: 422 Validation Failed', workflowId: 'cli-1' }, f);
      assert.ok(failure.includes('`GITHUB_FAILED`') && failure.includes('422 Validation Failed') && failure.includes('`cli-1`'), f);
      for (const out of [rejection, cancelled, handed, timedOut, failure]) assert.equal(out.includes('**'), f === 'markdown', `${f}: bold style`);
    }
    assert.ok(renderRejection({ reason: 'a <script> & more' }, 'mrkdwn').includes('a &lt;script&gt; &amp; more'));
  });
});

describe('formatting helpers', () => {
  test('formatUsd: 4 decimals under a dollar, 2 with separators above', () => {
    assert.equal(formatUsd(0), '$0.00');
    assert.equal(formatUsd(0.00421), '$0.0042');
    assert.equal(formatUsd(0.1354875), '$0.1355');
    assert.equal(formatUsd(5.1234), '$5.12');
    assert.equal(formatUsd(1234.5), '$1,234.50');
    assert.equal(formatUsd(-0.5), '-$0.5000');
    assert.equal(formatUsd(Number.NaN), '$?');
  });

  test('formatDuration: two units at most, rounded down', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(-5), '0s');
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(42_999), '42s');
    assert.equal(formatDuration(187_000), '3m 7s');
    assert.equal(formatDuration(3_723_000), '1h 2m');
    assert.equal(formatDuration(183_600_000), '2d 3h');
  });
});
