/**
 * The table of output patterns that show a test command could not run because something of the
 * environment is missing (a tool, a package, a module). Each rule is typed: an id the verdict
 * names, an ecosystem the hint is drawn from, a pattern, and an `extract` that returns what is
 * missing, or undefined when the match is a near miss (a local module, a relative import).
 * Captures these were made from: test/fixtures/preflight (SOURCES.md there).
 */

/** Which toolchain a rule or a missing thing belongs to. */
export type Ecosystem = 'node' | 'python' | 'go' | 'shell';

/** What a rule's `extract` is given beyond the match. */
export interface RuleContext {
  /** Every path tracked by the repository at the base commit (`/`-separated, from the root). */
  trackedPaths: string[];
}

/** One rule of {@link DEPENDENCY_RULES}. */
export interface PreflightRule {
  id: string;
  ecosystem: Ecosystem;
  /** Matched against the whole output; must be global (`g`): every match is tried. */
  pattern: RegExp;
  /** What is missing (a package, a module, a Go package), or undefined to reject this match. */
  extract: (m: RegExpMatchArray, ctx: RuleContext) => string | undefined;
}

/** A bare Node specifier names a package (`left-pad`, `@scope/x`), not a file (`./x`, `../x`, `/x`, `file:`) or a built-in (`node:x`). */
function bareSpecifier(spec: string): string | undefined {
  if (spec === '' || /^(\.{1,2}(\/|$)|\/|[A-Za-z]:[\\/]|file:|node:|data:)/.test(spec)) return undefined;
  return spec;
}

/** True when the repository has a module or package named `name` (`name.py` or a `name/` directory, anywhere). */
export function isRepoModule(name: string, trackedPaths: string[]): boolean {
  return trackedPaths.some((p) => {
    const parts = p.split('/');
    const base = parts[parts.length - 1];
    return base === `${name}.py` || parts.slice(0, -1).includes(name);
  });
}

/** Output patterns of a missing dependency, by ecosystem, tried in order. */
export const DEPENDENCY_RULES: readonly PreflightRule[] = [
  {
    // CommonJS `Cannot find module 'x'`, ESM `Cannot find package 'x' imported from …` /
    // `Cannot find module '/abs/x.js'` (ERR_MODULE_NOT_FOUND), Jest `Cannot find module 'x' from 'y'`.
    id: 'node-module-not-found',
    ecosystem: 'node',
    pattern: /Cannot find (?:module|package) '([^']+)'/g,
    extract: (m) => bareSpecifier(m[1] ?? ''),
  },
  {
    // `ModuleNotFoundError: No module named 'x'`, `/usr/bin/python3: No module named pytest`.
    id: 'python-no-module',
    ecosystem: 'python',
    pattern: /No module named '?([A-Za-z_][\w.]*)'?/g,
    extract: (m, ctx) => {
      const top = (m[1] ?? '').split('.')[0] ?? '';
      return top === '' || isRepoModule(top, ctx.trackedPaths) ? undefined : top;
    },
  },
  {
    id: 'go-no-required-module',
    ecosystem: 'go',
    pattern: /no required module provides package ([^\s;:]+)/g,
    extract: (m) => m[1],
  },
  {
    id: 'go-missing-sum',
    ecosystem: 'go',
    pattern: /missing go\.sum entry for (?:module providing package ([^\s;:()]+)|go\.mod file)/g,
    extract: (m) => m[1] ?? 'go.sum entries',
  },
  {
    // Older Go: `cannot find module providing package x: module lookup disabled by GOPROXY=off`.
    id: 'go-cannot-find-module',
    ecosystem: 'go',
    pattern: /cannot find module providing package ([^\s;:]+)/g,
    extract: (m) => m[1],
  },
  {
    // Go ≥ 1.21 with -mod=mod and GOPROXY=off: `calc_test.go:6:2: module lookup disabled by GOPROXY=off`.
    id: 'go-proxy-off',
    ecosystem: 'go',
    pattern: /module lookup disabled by GOPROXY=off/g,
    extract: () => 'modules (GOPROXY=off)',
  },
  {
    // `x@v: Get "https://proxy.golang.org/…/@v/v.zip": dial tcp: lookup proxy.golang.org …`.
    id: 'go-proxy-unreachable',
    ecosystem: 'go',
    pattern: /([^\s:]+@v[^\s:]+): Get "[^"]*": dial tcp: lookup ([\w.-]+)/g,
    extract: (m) => m[1],
  },
];

/** `sh: 1: npm: not found`, `bash: npm: command not found`, `/bin/sh: npm: not found`, `sh: line 1: npm: command not found`. */
const NOT_FOUND = /(?:^|\n)[^\n]*?\b(?:sh|bash|dash|zsh|ash)(?::\s*(?:line\s*)?\d+)?:\s*([^\s:]+):\s*(?:command\s+)?not found/g;

/** Every command the shell reported as not found, in order seen. */
export function commandsNotFound(output: string): string[] {
  return [...output.matchAll(NOT_FOUND)].flatMap((m) => (m[1] ? [m[1]] : []));
}

/** The first word of a shell command, past leading `VAR=value` assignments (`CI=1 npm test` → `npm`). */
export function firstWord(command: string): string {
  const words = command.trim().split(/\s+/);
  return words.find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) ?? '';
}

/** The ecosystem a command belongs to, by name (`npm`, `jest` → node; `pytest` → python; `go` → go). */
export function ecosystemOfCommand(cmd: string): Ecosystem {
  const name = cmd.split('/').pop() ?? cmd;
  if (/^(node|npm|npx|pnpm|yarn|corepack|jest|vitest|mocha|ava|tap|tsc|tsx|ts-node|eslint)$/.test(name)) return 'node';
  if (/^(python[\d.]*|pip[\d.]*|pytest|tox|nox|poetry|uv|pipenv)$/.test(name)) return 'python';
  if (/^(go|gotestsum)$/.test(name)) return 'go';
  return 'shell';
}

/** Commands that are a toolchain (come with a base image), not something a setup step installs from a manifest. */
export function isToolchain(cmd: string): boolean {
  const name = cmd.split('/').pop() ?? cmd;
  return /^(node|npm|npx|corepack|python[\d.]*|pip[\d.]*|go|cargo|rustc|java|mvn|gradle|ruby|bundle|php|composer|make|gcc|cc|sh|bash|git)$/.test(name);
}

/** A recognised missing dependency. */
export interface DependencyMatch {
  rule: PreflightRule;
  missing: string;
}

/** The first rule match that is not a near miss, or undefined. */
export function findMissingDependency(output: string, ctx: RuleContext): DependencyMatch | undefined {
  for (const rule of DEPENDENCY_RULES) {
    for (const m of output.matchAll(rule.pattern)) {
      const missing = rule.extract(m, ctx);
      if (missing !== undefined) return { rule, missing };
    }
  }
  return undefined;
}
