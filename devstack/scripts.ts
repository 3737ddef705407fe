/**
 * Scripted model behaviours used by the demo and the tests. Agent-neutral: the scripted model
 * server maps each step to Claude Code's or Codex's tools.
 */
import { ASSESS_MARKER } from '../activities/clarify.js';
import { CLASSIFY_MARKER } from '../activities/classify.js';
import { scriptFromSteps, type Script, type ScriptedUsage, type ScriptStep } from './scriptedModel.js';

/** Test command of the bundled example repository (examples/calculator). */
export const CALCULATOR_TESTS = 'python3 -m unittest -v';

/** Fixes `add()` in examples/calculator: run the tests, read, edit, re-run, report. */
export function fixCalculatorScript(): Script {
  return scriptFromSteps(
    [
      { bash: CALCULATOR_TESTS },
      { read: { path: '/workspace/calc.py' } },
      { edit: { path: '/workspace/calc.py', old: '    """Return the sum of a and b."""\n    return a - b', new: '    """Return the sum of a and b."""\n    return a + b' } },
      { bash: CALCULATOR_TESTS },
    ],
    'Fixed `add()` in calc.py: it subtracted instead of adding. `python3 -m unittest -v` now passes (4 tests).',
  );
}

/** Keeps running the same failing command: the stuck rule `repeated_failing_call` must stop it. */
export function repeatFailingCommandScript(command = 'python3 -m unittest test_calc.CalcTest.test_add'): Script {
  return () => ({ bash: command });
}

/** The same error text from different commands. */
export function sameErrorScript(): Script {
  const cmds = ['python3 -c "import calcx"', 'python3 -c "import calcx; calcx.add(1, 2)"', 'python3 -c "from calcx import add"', 'python3 -c "import calcx as c"'];
  return (ctx) => ({ bash: cmds[ctx.turn % cmds.length]! });
}

/** Alternates two calls forever, changing nothing. */
export function alternatingScript(): Script {
  return (ctx) => (ctx.turn % 2 === 0 ? { read: { path: '/workspace/calc.py' } } : { bash: 'ls -la /workspace' });
}

/** Runs the tests once, then hangs without answering. */
export function stallScript(): Script {
  return (ctx) => (ctx.turn === 0 ? { bash: 'ls /workspace' } : { stall: true });
}

/** Burns tokens: every turn reports a large usage, until the gateway refuses. */
export function burnTokensScript(perTurn = { input: 150_000, output: 4_000 }): Script {
  return () => ({ bash: 'echo thinking', usage: perTurn });
}

/** Makes an edit that leaves `test_add` failing (wrong fix), then claims success. */
export function wrongFixScript(): Script {
  let n = 0;
  const steps: ScriptStep[] = [
    { bash: CALCULATOR_TESTS },
    // Appends a harmless line each attempt (a real file change), but never fixes add().
    { bash: `echo "# attempt note" >> /workspace/calc.py` },
  ];
  return (ctx) => {
    n++;
    const step = steps[ctx.turn];
    return step ?? { text: `I believe the bug is fixed (claim ${n}).` };
  };
}

/** Answers side requests (no tools advertised, e.g. a title) with a short text, else defers to `script`. */
export function withSideRequests(script: Script): Script {
  return (ctx) => (ctx.sideRequest ? { text: 'OK', usage: { input: 50, output: 2 } } : script(ctx));
}

/**
 * Plays `steps` first (one per assistant turn), then defers to `then` with `turn` counted from the
 * end of `steps`. Side requests get a short text answer.
 */
export function afterSteps(steps: ScriptStep[], then: Script): Script {
  return withSideRequests((ctx) => steps[ctx.turn] ?? then({ ...ctx, turn: ctx.turn - steps.length }));
}

/**
 * A real change to calc.py that fixes nothing (a comment under the module docstring, away from
 * `add()` so that {@link fixCalculatorScript}'s edit still applies after it), so that there is
 * partial work to push. Claude Code needs the `read` before the `edit`.
 */
export const HARMLESS_EDIT: ScriptStep[] = [
  { read: { path: '/workspace/calc.py' } },
  {
    edit: {
      path: '/workspace/calc.py',
      old: '"""A tiny calculator: the bundled example repository of the Nightshift demo."""\n',
      new: '"""A tiny calculator: the bundled example repository of the Nightshift demo."""\n# TODO: check the sign in add()\n',
    },
  },
];

/**
 * Runs the failing tests once, then a different successful read-only command each turn: no file
 * change while the tests keep failing (the `no_progress` rule), without repeating a call.
 */
export function noProgressScript(): Script {
  const looks = [
    'cat /workspace/calc.py',
    'cat /workspace/test_calc.py',
    'ls -la /workspace',
    'wc -l /workspace/calc.py',
    'head -5 /workspace/calc.py',
    'grep -n def /workspace/calc.py',
    'python3 --version',
    'echo still looking',
    'tail -5 /workspace/test_calc.py',
    'grep -n assert /workspace/test_calc.py',
    'du -sh /workspace',
    'date -u +%Y',
  ];
  return withSideRequests((ctx) => (ctx.turn === 0 ? { bash: CALCULATOR_TESTS } : { bash: looks[(ctx.turn - 1) % looks.length]! }));
}

/** Runs one long command (`sleep`), as an agent waiting on something slow would. */
export function slowCommandScript(seconds = 60): Script {
  return scriptFromSteps([{ bash: `sleep ${seconds}` }], 'Waited.');
}

/** What the scripted model answers to a clarifying assessment (activities/clarify.ts). */
export interface AssessAnswer {
  decision: 'proceed' | 'ask';
  question?: string;
  options?: string[];
  rationale: string;
}

/** Usage one scripted assessment reports (tokens). */
export const ASSESS_USAGE: Required<ScriptedUsage> = { input: 600, output: 60, cacheRead: 0, cacheWrite: 0 };

/** The text of an Anthropic request's user messages (the assessment's task). */
function userText(request: unknown): string {
  const messages = (request as { messages?: Array<{ role?: string; content?: unknown }> } | undefined)?.messages ?? [];
  return messages
    .filter((m) => m.role === 'user')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');
}

/** Whether a request is the clarifying assessment (its system prompt carries {@link ASSESS_MARKER}), not an agent's. */
export function isAssessment(request: unknown): boolean {
  const system = (request as { system?: unknown } | undefined)?.system;
  return (typeof system === 'string' ? system : JSON.stringify(system ?? '')).includes(ASSESS_MARKER);
}

/**
 * Answers the clarifying assessment's requests with `answer(task)` as JSON (`task`: the request's
 * user text, which carries the answers so far); every other request goes to `script`.
 */
export function withAssessment(script: Script, answer: (task: string) => AssessAnswer, usage: ScriptedUsage = ASSESS_USAGE): Script {
  return (ctx) => (isAssessment(ctx.request) ? { text: JSON.stringify(answer(userText(ctx.request))), usage } : script(ctx));
}

/**
 * An assessment that asks which repository (the `options`) until the task carries an answer, then
 * proceeds: the question flow of the demo and the end-to-end tests.
 */
export function askRepoThenProceed(options: string[]): (task: string) => AssessAnswer {
  return (task) =>
    task.includes('Clarifications before the work started')
      ? { decision: 'proceed', rationale: 'the repository is chosen and the tests can show the fix' }
      : { decision: 'ask', question: 'Which repository is this about?', options, rationale: 'several repositories could be meant' };
}

/** What the scripted model answers to a task classification (activities/classify.ts). */
export interface ClassifyAnswer {
  type: string;
  size: string;
  risk: string;
  rationale: string;
}

/** Whether a request is the task classification (its system prompt carries {@link CLASSIFY_MARKER}). */
export function isClassification(request: unknown): boolean {
  const system = (request as { system?: unknown } | undefined)?.system;
  return (typeof system === 'string' ? system : JSON.stringify(system ?? '')).includes(CLASSIFY_MARKER);
}

/** Answers task classifications with `answer(task)` as JSON; every other request goes to `script`. */
export function withClassification(script: Script, answer: (task: string) => ClassifyAnswer, usage: ScriptedUsage = ASSESS_USAGE): Script {
  return (ctx) => (isClassification(ctx.request) ? { text: JSON.stringify(answer(userText(ctx.request))), usage } : script(ctx));
}
