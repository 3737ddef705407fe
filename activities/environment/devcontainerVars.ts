/**
 * devcontainer.json variable substitution and argv quoting, as Nightshift applies them (pure).
 * Variables: https://containers.dev/implementors/json_reference/#variables-in-devcontainerjson
 */

/** Where the repository is mounted in every Nightshift container. */
export const CONTAINER_WORKSPACE = '/workspace';

/** Result of {@link substituteVariables}. */
export interface Substituted {
  /** The text with every resolvable variable replaced. */
  value: string;
  /** Name X of the first `${containerEnv:X}` that could not be resolved; `value` is then not usable. */
  unresolved?: string;
  /** Notes on substitutions that lost something (a `${localEnv:…}` replaced by its default or ''). */
  notes: string[];
}

const VAR = /\$\{(localEnv|containerEnv|env):([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}|\$\{(containerWorkspaceFolder|localWorkspaceFolder|containerWorkspaceFolderBasename|localWorkspaceFolderBasename|devcontainerId)\}/g;

/**
 * Replaces devcontainer variables in `text`:
 * - `${localEnv:X}` / `${env:X}` (and `:default`): the default, or '' — the host's environment
 *   never reaches a sandbox, so its value is not read (a note says so);
 * - `${containerEnv:X}`: `known[X]` when declared (the file's own containerEnv), else unresolved;
 * - `${containerWorkspaceFolder}` / `${localWorkspaceFolder}`: `/workspace`; `…Basename`: `workspace`;
 * - `${devcontainerId}`: `nightshift`.
 * Other `${…}` text is left as it is (the shell may expand it).
 */
export function substituteVariables(text: string, known: Record<string, string>): Substituted {
  const notes: string[] = [];
  let unresolved: string | undefined;
  const value = text.replace(VAR, (whole, kind: string | undefined, name: string | undefined, def: string | undefined, plain: string | undefined) => {
    if (plain) {
      if (plain === 'devcontainerId') return 'nightshift';
      return plain.endsWith('Basename') ? CONTAINER_WORKSPACE.slice(1) : CONTAINER_WORKSPACE;
    }
    if (kind === 'containerEnv') {
      const v = name !== undefined && Object.hasOwn(known, name) ? known[name] : undefined;
      if (v !== undefined) return v;
      unresolved ??= name;
      return whole;
    }
    notes.push(`\${${kind}:${name}} is not read from the host; ${def !== undefined ? `its default "${def}" is used` : "'' is used"}`);
    return def ?? '';
  });
  return { value, notes, ...(unresolved ? { unresolved } : {}) };
}

/** Quotes one argument for `sh` (POSIX): left bare when it has only safe characters, else single-quoted. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argv into one `sh -c` command that runs exactly that argv (no expansion, no splitting). */
export function quoteArgv(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
