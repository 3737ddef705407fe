/**
 * Scripted model behaviours that fix the one bug of each ecosystem example repository (the
 * repositories live under test/fixtures/repos/{node,python,go}; the product never reads them, the
 * scripts only name their files and the lines to change). Each script reads the file (Claude Code
 * refuses an Edit of a file it has not read), fixes it with the agent's edit tool, runs the
 * repository's test command once, and reports.
 */
import { scriptFromSteps, type Script } from './scriptedModel.js';

/** One ecosystem example repository: its test command, the setup line it needs, and its bug. */
export interface EcosystemFix {
  /** Test command of the repository (`sh -c`). */
  testCommand: string;
  /** The one setup line that installs its dependency from its registry. */
  setup: string;
  /** The file holding the bug, from the repository root. */
  file: string;
  /** Text of the bug in `file` (unique in it), and its fix. */
  old: string;
  new: string;
  /** The agent's closing message. */
  summary: string;
}

/** The three ecosystem repositories: Node.js (is-number from npm), Python (pytest from PyPI), Go (github.com/google/uuid). */
export const ECOSYSTEM_FIXES = {
  node: {
    testCommand: 'npm test',
    setup: 'npm ci',
    file: 'index.js',
    old: '  return Number(x) * 3;',
    new: '  return Number(x) * 2;',
    summary: 'Fixed `double()` in index.js: it multiplied by 3. `npm test` now passes (3 tests).',
  },
  python: {
    testCommand: 'python -m pytest -q',
    setup: 'pip install -r requirements.txt',
    file: 'calc.py',
    old: '    """The sum of a and b."""\n    return a - b',
    new: '    """The sum of a and b."""\n    return a + b',
    summary: 'Fixed `add()` in calc.py: it subtracted. `python -m pytest -q` now passes.',
  },
  go: {
    // The default, terse `go test ./...`: Nightshift's test contract checks it by package.
    testCommand: 'go test ./...',
    setup: 'go mod download',
    file: 'greet.go',
    old: '\treturn fmt.Sprintf("Hello, %s", name), uuid.NewString()',
    new: '\treturn fmt.Sprintf("Hello, %s!", name), uuid.NewString()',
    summary: 'Fixed `Greeting()` in greet.go: the greeting lacked its "!". `go test ./...` now passes.',
  },
} as const satisfies Record<string, EcosystemFix>;

/** Names of {@link ECOSYSTEM_FIXES}. */
export type Ecosystem = keyof typeof ECOSYSTEM_FIXES;

/** Read the buggy file, fix it with the edit tool, run the tests once (Bash), then report. */
export function fixEcosystemScript(ecosystem: Ecosystem): Script {
  const f: EcosystemFix = ECOSYSTEM_FIXES[ecosystem];
  const path = `/workspace/${f.file}`;
  return scriptFromSteps([{ read: { path } }, { edit: { path, old: f.old, new: f.new } }, { bash: f.testCommand }], f.summary);
}
