/**
 * Small readers of test-command definitions: which package.json scripts a shell command runs, which
 * Makefile targets, which repository files it names, and INI/TOML sections. Pure and heuristic
 * (no shell parsing beyond `&&`, `||`, `;`, `|` and whitespace); used by `testChanges.ts`.
 */

function segments(command: string): string[][] {
  return command
    .split(/&&|\|\||[;|\n]/)
    .map((seg) => seg.trim().split(/\s+/).map((t) => t.replace(/^['"]|['"]$/g, '')).filter(Boolean))
    .map((words) => {
      let i = 0;
      while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] ?? '')) i++; // FOO=bar cmd
      return words.slice(i);
    })
    .filter((w) => w.length > 0);
}

const PM_BUILTINS = new Set(['install', 'i', 'add', 'remove', 'exec', 'dlx', 'x', 'ci', 'link', 'publish', 'why', 'outdated', 'audit', 'config', 'init', 'create']);

/** package.json script names a command runs: `npm test` → test, `npm run test:unit`, `yarn lint`, `pnpm run x`, `bun run x`, `run-s a b`. */
export function commandScripts(command: string): string[] {
  const out: string[] = [];
  for (const w of segments(command)) {
    const [tool, sub, arg] = [w[0] ?? '', w[1] ?? '', w[2]];
    const args = w.slice(1).filter((t) => !t.startsWith('-'));
    if (tool === 'npm' && ['test', 't', 'tst'].includes(sub)) out.push('test');
    else if (['npm', 'yarn', 'pnpm', 'bun'].includes(tool) && ['run', 'run-script'].includes(sub) && arg) out.push(arg);
    else if ((tool === 'yarn' || tool === 'pnpm') && sub && !sub.startsWith('-') && !PM_BUILTINS.has(sub)) out.push(sub);
    else if (['run-s', 'run-p', 'npm-run-all'].includes(tool)) out.push(...args);
  }
  return out;
}

/** Scripts a package.json script body runs in turn (same rules as {@link commandScripts}). */
export function scriptReferences(script: string): string[] {
  return commandScripts(script);
}

/** Repository-relative files a command names (`./run-tests.sh`, `node scripts/test.mjs`), without `./`. */
export function pathTokens(command: string): string[] {
  const out: string[] = [];
  for (const w of segments(command)) {
    for (const t of w) {
      if (t.startsWith('-') || t.includes('://') || t.includes('node_modules') || t.startsWith('/') || t.includes('$')) continue;
      if (/\/|\.(sh|bash|py|[cm]?js|[cm]?ts)$/.test(t) && !t.endsWith('/')) out.push(t.replace(/^\.\//, ''));
    }
  }
  return out;
}

/** Targets of the `make` invocations in a command: `[]` for the default goal, `undefined` when it runs no make. */
export function makeTargets(command: string): string[] | undefined {
  let found: string[] | undefined;
  for (const w of segments(command)) {
    if (w[0] !== 'make' && w[0] !== 'gmake') continue;
    found ??= [];
    for (let i = 1; i < w.length; i++) {
      const t = w[i] ?? '';
      if (/^-[CfIjoW]$/.test(t)) i++;
      else if (!t.startsWith('-') && !t.includes('=')) found.push(t);
    }
  }
  return found;
}

/**
 * The rule for `target` in a Makefile, with the rules of its prerequisites (recursively): rule lines
 * and their tab-indented recipes, as text. `undefined` when no rule names the target.
 */
export function makeRecipe(makefile: string, target: string, seen = new Set<string>()): string | undefined {
  if (seen.has(target)) return '';
  seen.add(target);
  const lines = makefile.split('\n');
  const parts: string[] = [];
  const prereqs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^\t#:=][^:=]*?)\s*::?(?!=)\s*([^;]*)(;.*)?$/.exec(lines[i] ?? '');
    if (!m || !(m[1] ?? '').split(/\s+/).includes(target)) continue;
    parts.push((lines[i] ?? '').trim());
    prereqs.push(...(m[2] ?? '').split(/\s+/).filter((p) => p && !p.startsWith('|')));
    while (i + 1 < lines.length && (/^\t/.test(lines[i + 1] ?? '') || (lines[i] ?? '').endsWith('\\'))) parts.push((lines[++i] ?? '').trim());
  }
  if (parts.length === 0) return undefined;
  for (const p of prereqs) {
    const r = makeRecipe(makefile, p, seen);
    if (r) parts.push(r);
  }
  return parts.join('\n');
}

/** The lines of an INI/TOML section whose header matches, up to the next `[header]`; `undefined` when absent. */
export function section(text: string, header: RegExp): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => header.test(l.trim()));
  if (start < 0) return undefined;
  const body: string[] = [];
  for (let i = start + 1; i < lines.length && !/^\s*\[/.test(lines[i] ?? ''); i++) {
    const l = (lines[i] ?? '').trim();
    if (l && !l.startsWith('#')) body.push(l);
  }
  return body.join('\n');
}
