/**
 * The scripted model of `demo --night` (worker/demoNight.ts): one server, many runs at once, each
 * routed by its task text (the scripted model sees the request, and the agent's prompt carries the
 * task). A task whose text holds {@link STUCK_MARKER} keeps running the same failing test (the
 * stuck rule `repeated_failing_call` stops it → escalation); every other task fixes `add()` in the
 * example calculator, at an agent's pace (a pause) and with a token usage that makes the night's
 * spend count against the team's cap.
 */
import type { Script, ScriptedUsage, ScriptStep } from './scriptedModel.js';
import { CALCULATOR_TESTS, withSideRequests } from './scripts.js';

/** A task whose text contains this cannot be solved: the agent loops on one failing test. */
export const STUCK_MARKER = 'under a millisecond';

/** Options of {@link nightScript}. */
export interface NightScriptOptions {
  /** The agent's "thinking" pause in a fixed run, seconds (a `sleep` command; default 6). */
  thinkSeconds?: number;
  /**
   * Usage reported for each tool turn of a fixed run, tokens (default 24,000 input, 1,000 output:
   * $0.087 a turn at the stack's Sonnet price, about $0.44 a run).
   */
  usage?: ScriptedUsage;
}

/** The usage per tool turn of a fixed run (see {@link NightScriptOptions.usage}). */
export const NIGHT_TURN_USAGE: Readonly<Required<ScriptedUsage>> = { input: 24_000, output: 1_000, cacheRead: 0, cacheWrite: 0 };

/** The steps of a fixed run: tests, a pause, read, edit, tests, then the final message. */
function fixSteps(thinkSeconds: number, usage: ScriptedUsage): ScriptStep[] {
  return [
    { bash: CALCULATOR_TESTS, usage },
    { bash: `sleep ${thinkSeconds}`, usage },
    { read: { path: '/workspace/calc.py' }, usage },
    { edit: { path: '/workspace/calc.py', old: '    """Return the sum of a and b."""\n    return a - b', new: '    """Return the sum of a and b."""\n    return a + b' }, usage },
    { bash: CALCULATOR_TESTS, usage },
  ];
}

/** Whether the request's conversation carries the stuck marker (in the task text of its prompt). */
export function isStuckTask(request: unknown): boolean {
  return JSON.stringify(request ?? '').includes(STUCK_MARKER);
}

/** The night's script: routes each request by its task text (see the module comment). */
export function nightScript(opts: NightScriptOptions = {}): Script {
  const steps = fixSteps(opts.thinkSeconds ?? 6, opts.usage ?? NIGHT_TURN_USAGE);
  return withSideRequests((ctx) => {
    if (isStuckTask(ctx.request)) return { bash: 'python3 -m unittest test_calc.CalcTest.test_add' };
    return steps[ctx.turn] ?? { text: 'Fixed `add()` in calc.py: it subtracted instead of adding. `python3 -m unittest -v` now passes.' };
  });
}
