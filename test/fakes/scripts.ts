/**
 * Scripted model behaviours used by the demo and the tests. Agent-neutral: the scripted model
 * server maps each step to Claude Code's or Codex's tools.
 */
import { scriptFromSteps, type Script, type ScriptStep } from './scriptedModel.js';

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
