/**
 * The agent's prompt for an attempt, and the run window. Pure and deterministic: bundled into
 * workflow code.
 */
import type { AttemptRecord } from './types.js';

/** Input of {@link buildPrompt}. */
export interface PromptInput {
  title: string;
  task: string;
  testCommand: string;
  attempt: number;
  /** Earlier attempts of this run, oldest first; the last failed validation is fed back. */
  previous: AttemptRecord[];
  /** Human guidance replies, oldest first. */
  guidance: string[];
}

const MAX_TAIL_CHARS = 4000;

/** Builds the prompt of one attempt: the task, how Nightshift will judge it, and what failed before. */
export function buildPrompt(input: PromptInput): string {
  const parts = [
    `You are working in the git repository at /workspace. Task: ${input.title}`,
    '',
    input.task.trim(),
    '',
    'How your work will be judged: after you finish, Nightshift runs the repository\'s tests itself with',
    `\`${input.testCommand}\` in a fresh container. The change must make them pass. Do not commit, do not`,
    'create branches, do not push: Nightshift does that. Keep the change small and focused on the task.',
  ];
  const last = [...input.previous].reverse().find((a) => a.validation && !a.validation.passed);
  if (input.attempt > 1 && last?.validation) {
    const tail = last.validation.outputTail.slice(-MAX_TAIL_CHARS);
    parts.push(
      '',
      `This is attempt ${input.attempt}. Attempt ${last.attempt} did not pass Nightshift's test run (exit code ${last.validation.exitCode}).`,
    );
    if (last.validation.failingTests.length > 0) parts.push(`Failing tests: ${last.validation.failingTests.join(', ')}`);
    parts.push('Output tail of that test run:', '```', tail, '```');
    if (last.filesChanged.length > 0) parts.push(`Files it changed (still in the workspace): ${last.filesChanged.join(', ')}`);
  } else if (input.attempt > 1) {
    const prev = input.previous.at(-1);
    if (prev?.failure) parts.push('', `This is attempt ${input.attempt}. The previous attempt failed: ${prev.failure}`);
  }
  if (input.guidance.length > 0) {
    parts.push('', 'Guidance from a human who read the previous attempts:');
    for (const g of input.guidance) parts.push(`- ${g}`);
  }
  return parts.join('\n');
}

/**
 * Milliseconds from `nowMs` until the run window `[startHourUtc, endHourUtc)` is open; 0 when it is
 * open now. A window whose end is before its start spans midnight (e.g. 22 → 6).
 */
export function msUntilWindow(nowMs: number, window: { startHourUtc: number; endHourUtc: number }): number {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const dayStart = Math.floor(nowMs / DAY) * DAY;
  const hour = (nowMs - dayStart) / HOUR;
  const { startHourUtc: s, endHourUtc: e } = window;
  const open = s === e ? true : s < e ? hour >= s && hour < e : hour >= s || hour < e;
  if (open) return 0;
  const startToday = dayStart + s * HOUR;
  return startToday > nowMs ? startToday - nowMs : startToday + DAY - nowMs;
}

/** Interprets a human reply: `cancel` and `take over` are commands; anything else is guidance. */
export function classifyReply(text: string): 'cancel' | 'take_over' | 'guidance' {
  const t = text.trim().toLowerCase().replace(/[.!]+$/, '');
  if (t === 'cancel' || t === 'stop') return 'cancel';
  if (t === 'take over' || t === 'takeover' || t === 'take-over' || t === "i'll take over") return 'take_over';
  return 'guidance';
}
