/**
 * The LLM judge: grades one run of a task against the task's notes (judge.md) as a rubric. It sees
 * the task, the diff the run produced, and the test results (Nightshift's validation and the
 * hidden tests), and answers a score 0–10 with reasons, as JSON (zod-validated).
 *
 * The call goes THROUGH THE MODEL GATEWAY like the clarifying assessment's
 * (activities/clarify.ts): a run key of its own, metered, refused past its limits, so its cost is
 * known. Anthropic Messages API, non-streaming: https://docs.anthropic.com/en/api/messages
 */
import { z } from 'zod';
import type { GatewayPort } from '../activities/runAgent.js';
import { registerSecret } from '../worker/redact.js';
import type { Logger } from '../worker/logger.js';
import { addSpend, ZERO_SPEND, type Spend } from '../workflows/types.js';
import { EvalError } from './errors.js';

/** Marker in the judge's system prompt: the scripted model tells judge requests from agent requests by it. */
export const JUDGE_MARKER = '[nightshift:eval-judge]';

/** The judge's rules (system prompt). */
export const JUDGE_SYSTEM_PROMPT = `${JUDGE_MARKER}
You grade one change a coding agent made for a task. You get the task, the reviewer's notes on what a good implementation looks like (the rubric), the diff, and the results of the repository's tests and of hidden tests the agent never saw.
Score 0-10: 10 = what the notes describe, correct for every input the task covers; 5 = works for the tested cases but is fragile or partial; 0 = wrong, no change, or it games the tests (special-cases tested inputs, edits tests).
Answer with ONE JSON object and nothing else: {"score": <0-10>, "reasons": ["short reason", ...]}`;

/** What the judge is shown about one test run. */
export interface JudgedTests {
  /** false: not run (no change to test). */
  ran: boolean;
  passed: boolean;
  /** Short text: the command, failing test names, an output tail. */
  summary: string;
}

/** Input of {@link judgeRun}. */
export interface JudgeInput {
  /** Gateway run key (unique per judged run). */
  runKey: string;
  title: string;
  instruction: string;
  /** judge.md: the rubric. */
  notes: string;
  /** Unified diff of the run's branch against the base (cut to {@link MAX_DIFF_CHARS}). */
  diff: string;
  visible: JudgedTests;
  hidden: JudgedTests;
}

/** The judge's answer, as the model must give it. */
export const judgeAnswerSchema = z.object({
  score: z.number().min(0).max(10),
  reasons: z.array(z.string().min(1)).min(1).max(12),
});

/** A verdict and what it cost. */
export interface Verdict {
  /** 0–10. */
  score: number;
  reasons: string[];
  /** Metered by the gateway. */
  spend: Spend;
}

/** Dependencies of {@link judgeRun}. */
export interface JudgeDeps {
  gateway: GatewayPort;
  /** Gateway base URL reachable from the host. */
  gatewayUrl: string;
  /** The judge's model (must have a price in gateway.prices). */
  model: string;
  /** Limits of one judgement: tokens, USD (default 200,000 tokens, $1). */
  limits?: { tokens: number; usd: number };
  /** Longest wait for the answer, ms (default 120,000). */
  timeoutMs?: number;
  logger: Logger;
}

/** Longest diff shown to the judge, characters. */
export const MAX_DIFF_CHARS = 20_000;

const testsLine = (label: string, t: JudgedTests): string => `${label}: ${!t.ran ? 'NOT RUN' : t.passed ? 'PASSED' : 'FAILED'}\n${t.summary}`;

/** The user message the judge gets (pure). */
export function judgePrompt(input: Omit<JudgeInput, 'runKey'>): string {
  const diff = input.diff.length > MAX_DIFF_CHARS ? `${input.diff.slice(0, MAX_DIFF_CHARS)}\n[diff cut at ${MAX_DIFF_CHARS} characters]` : input.diff;
  return [
    `# Task: ${input.title}`,
    input.instruction.trim(),
    '',
    '# Rubric (what a good implementation looks like)',
    input.notes.trim() || '(no notes: judge by the task alone)',
    '',
    '# Diff',
    '```diff',
    diff.trim() || '(no change)',
    '```',
    '',
    '# Test results',
    testsLine("Visible tests (the repository's tests, run by Nightshift)", input.visible),
    testsLine('Hidden tests (never shown to the agent)', input.hidden),
  ].join('\n');
}

/**
 * Reads the judge's answer: the first JSON object in the text, validated.
 * @throws EvalError JUDGE_FAILED when there is none or it does not fit {@link judgeAnswerSchema}.
 */
export function parseVerdict(text: string): { score: number; reasons: string[] } {
  const m = /\{[\s\S]*\}/.exec(text);
  let raw: unknown;
  try {
    raw = m ? JSON.parse(m[0]) : undefined;
  } catch (err) {
    throw new EvalError('JUDGE_FAILED', 'the judge answered no valid JSON object', { answer: text.slice(0, 300) }, { cause: err });
  }
  const parsed = judgeAnswerSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EvalError('JUDGE_FAILED', `the judge's answer does not fit: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
      answer: text.slice(0, 300),
    });
  }
  return parsed.data;
}

/**
 * Asks the judge about one run, through the gateway.
 * @throws EvalError JUDGE_FAILED when the model is unreachable, answers an HTTP error, or its answer is unreadable (the spend is in `details.spend`).
 */
export async function judgeRun(deps: JudgeDeps, input: JudgeInput): Promise<Verdict> {
  const log = deps.logger.child({ judge: input.runKey });
  const { token } = deps.gateway.openRun(input.runKey, deps.limits ?? { tokens: 200_000, usd: 1 }, undefined, { judge: input.runKey });
  registerSecret(token);
  let spend = ZERO_SPEND;
  let text: string;
  try {
    const res = await fetch(`${deps.gatewayUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': token, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: deps.model, max_tokens: 1024, system: JUDGE_SYSTEM_PROMPT, messages: [{ role: 'user', content: judgePrompt(input) }] }),
      signal: AbortSignal.timeout(deps.timeoutMs ?? 120_000),
    });
    const body = (await res.json().catch(() => undefined)) as { content?: Array<{ type?: string; text?: string }>; error?: { message?: string } } | undefined;
    if (!res.ok) throw new EvalError('JUDGE_FAILED', `the judge's model answered HTTP ${res.status}`, { status: res.status, message: body?.error?.message?.slice(0, 200) });
    text = (body?.content ?? []).map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
  } catch (err) {
    spend = addSpend(ZERO_SPEND, deps.gateway.closeRun(input.runKey));
    if (err instanceof EvalError) throw new EvalError(err.code, err.message, { ...err.details, spend }, { cause: err.cause });
    throw new EvalError('JUDGE_FAILED', `the judge's model is unreachable (${err instanceof Error ? err.name : 'error'})`, { spend }, { cause: err });
  }
  spend = addSpend(ZERO_SPEND, deps.gateway.closeRun(input.runKey));
  const verdict = parseVerdict(text);
  log.info({ score: verdict.score, usd: spend.usd }, 'judged');
  return { ...verdict, spend };
}
