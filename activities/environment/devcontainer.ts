/**
 * Reads a repository's `devcontainer.json` (JSON with comments and trailing commas) into what
 * Nightshift honours of it: the base (`image` or `build`), the lifecycle commands that prepare the
 * environment, and the environment variables. Pure: no I/O.
 *
 * Format: https://containers.dev/implementors/json_reference/ (lifecycle order:
 * https://containers.dev/implementors/spec/#lifecycle). Not supported, each reported as a warning:
 * `features`, `dockerComposeFile`, `initializeCommand` (it would run on the host), `postStartCommand`,
 * `postAttachCommand` (they run on every start or attach, not once; Nightshift prepares once).
 */
import { posix } from 'node:path';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { NightshiftError } from '../errors.js';
import { quoteArgv, substituteVariables } from './devcontainerVars.js';

/** A devcontainer's Dockerfile build; paths are from the repository root (`.` = the root). */
export interface DevcontainerBuild {
  /** The Dockerfile, from the repository root. */
  dockerfile: string;
  /** The build context directory, from the repository root (the spec's default: the devcontainer.json's directory). */
  context: string;
  /** `--build-arg` values. */
  args: Record<string, string>;
  /** `--target` stage, when set. */
  target?: string;
}

/** What Nightshift takes from a devcontainer.json. */
export interface DevcontainerSpec {
  /** The devcontainer.json's path in the repository. */
  path: string;
  /** `image`: the base image reference. Exclusive with `build`. */
  image?: string;
  /** `build` (or the legacy top-level `dockerFile` / `context`). Exclusive with `image`. */
  build?: DevcontainerBuild;
  /** Shell commands (`sh -c` text) of each lifecycle command, in declaration order. */
  onCreateCommand: string[];
  updateContentCommand: string[];
  postCreateCommand: string[];
  /** All setup commands in the spec's lifecycle order: onCreate, updateContent, postCreate. */
  setup: string[];
  /** `containerEnv`, variables substituted; a value that cannot be resolved is left out (see warnings). */
  containerEnv: Record<string, string>;
  /** `remoteEnv`, the same way (may refer to `containerEnv` values through `${containerEnv:X}`). */
  remoteEnv: Record<string, string>;
  /** What was ignored or changed, one sentence each. */
  warnings: string[];
}

const UNSUPPORTED: Record<string, string> = {
  features: 'features are not supported: install what they would add in the Dockerfile or a postCreateCommand',
  dockerComposeFile: 'dockerComposeFile is not supported: the image or build of the devcontainer is used, else the universal image',
  initializeCommand: 'initializeCommand is not run (it would run on the host)',
  postStartCommand: 'postStartCommand is not run (Nightshift prepares the environment once; start services in the test command)',
  postAttachCommand: 'postAttachCommand is not run (no one attaches to a Nightshift sandbox)',
};

/** An ENV_INVALID error naming the file and the field. */
function invalid(path: string, field: string, why: string): NightshiftError {
  return new NightshiftError('ENV_INVALID', `${path}: ${field}: ${why}`, { retryable: false, details: { file: path, field } });
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/**
 * Resolves `rel` (a path in the devcontainer.json, relative to its directory `dir`) to a path from
 * the repository root. Throws ENV_INVALID when it is absolute or leaves the repository.
 */
export function repoRelative(dir: string, rel: string, file: string, field: string): string {
  if (rel.startsWith('/') || /^[A-Za-z]:[\\/]/.test(rel)) throw invalid(file, field, `"${rel}" is absolute; give a path inside the repository`);
  const joined = posix.normalize(posix.join(dir || '.', rel.replaceAll('\\', '/')));
  if (joined === '..' || joined.startsWith('../')) throw invalid(file, field, `"${rel}" leaves the repository`);
  return joined.replace(/\/$/, '') || '.';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(obj: Obj, key: string, file: string, field = key): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw invalid(file, field, 'expected a non-empty string');
  return v;
}

function strRecord(obj: Obj, key: string, file: string, field = key): Record<string, string> {
  const v = obj[key];
  if (v === undefined) return {};
  if (!isObj(v)) throw invalid(file, field, 'expected an object of strings');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw invalid(file, `${field}.${k}`, 'expected a string');
    out[k] = x;
  }
  return out;
}

/** One command value (string → `sh -c` text; array → argv quoted into one command). */
function oneCommand(v: unknown, file: string, field: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string')) return quoteArgv(v as string[]);
  throw invalid(file, field, 'expected a string, a non-empty array of strings, or an object of them');
}

/** A lifecycle command: string | string[] | { name: string | string[] } (object: values in key order). */
function lifecycle(obj: Obj, key: string, file: string): string[] {
  const v = obj[key];
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return [];
  if (isObj(v)) return Object.entries(v).map(([name, c]) => oneCommand(c, file, `${key}.${name}`));
  return [oneCommand(v, file, key)];
}

/** Substitutes variables in every value of an env record; a value that cannot be resolved is dropped with a warning. */
function envRecord(raw: Record<string, string>, field: string, known: Record<string, string>, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const r = substituteVariables(v, known);
    warnings.push(...r.notes.map((n) => `${field}.${k}: ${n}`));
    if (r.unresolved) warnings.push(`${field}.${k} is not set: it refers to \${containerEnv:${r.unresolved}}, which is not known before the container runs (the image's own value stays)`);
    else out[k] = r.value;
  }
  return out;
}

/** Substitutes variables in a command; one that refers to an unknown container variable is refused. */
function commandVars(cmds: string[], field: string, file: string, known: Record<string, string>, warnings: string[]): string[] {
  return cmds.map((c) => {
    const r = substituteVariables(c, known);
    warnings.push(...r.notes.map((n) => `${field}: ${n}`));
    if (r.unresolved) throw invalid(file, field, `\${containerEnv:${r.unresolved}} is not declared in containerEnv; use $${r.unresolved} (the shell expands it)`);
    return r.value;
  });
}

/**
 * Parses a devcontainer.json's text. `path` is its path in the repository (e.g.
 * `.devcontainer/devcontainer.json` or `.devcontainer.json`): build paths are resolved against its
 * directory and returned from the repository root.
 *
 * Variables: `${containerWorkspaceFolder}` and `${localWorkspaceFolder}` become `/workspace`
 * (their basenames `workspace`); `${localEnv:X}` and `${localEnv:X:default}` become the default or
 * '' (the host's environment never enters the sandbox; a warning says so); `${containerEnv:X}` is
 * resolved from the file's own `containerEnv` when declared there, otherwise REFUSED: the env
 * variable is left out with a warning, a command naming it throws ENV_INVALID.
 *
 * @throws NightshiftError `ENV_INVALID` (not retryable) naming the file and the bad field: syntax
 *   errors (with line and column), a field of the wrong type, `image` and `build` both set, a
 *   build path that is absolute or leaves the repository.
 */
export function parseDevcontainer(text: string, path: string): DevcontainerSpec {
  const errors: ParseError[] = [];
  const raw: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const e = errors[0];
  if (e) {
    throw invalid(path, '(syntax)', `${printParseErrorCode(e.error)} at ${lineCol(text, e.offset)}`);
  }
  if (!isObj(raw)) throw invalid(path, '(root)', 'expected a JSON object');
  const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
  const warnings: string[] = [];
  for (const [key, why] of Object.entries(UNSUPPORTED)) if (raw[key] !== undefined) warnings.push(why);

  const image = str(raw, 'image', path);
  let build: DevcontainerBuild | undefined;
  const b = raw.build;
  if (b !== undefined && !isObj(b)) throw invalid(path, 'build', 'expected an object');
  const dockerfile = (b && str(b, 'dockerfile', path, 'build.dockerfile')) ?? str(raw, 'dockerFile', path);
  if (b && !dockerfile) throw invalid(path, 'build.dockerfile', 'required when build is set');
  if (dockerfile) {
    if (image) throw invalid(path, 'image', 'set either image or build.dockerfile, not both');
    const ctxField = b?.context !== undefined ? 'build.context' : 'context';
    const context = (b && str(b, 'context', path, 'build.context')) ?? str(raw, 'context', path) ?? '.';
    const args = envRecord(b ? strRecord(b, 'args', path, 'build.args') : {}, 'build.args', {}, warnings);
    const target = b ? str(b, 'target', path, 'build.target') : undefined;
    build = {
      dockerfile: repoRelative(dir, dockerfile, path, b?.dockerfile !== undefined ? 'build.dockerfile' : 'dockerFile'),
      context: repoRelative(dir, context, path, ctxField),
      args,
      ...(target ? { target } : {}),
    };
  }
  if (!image && !build && raw.dockerComposeFile === undefined) warnings.push('neither image nor build is set: the universal image is used');

  const containerEnv = envRecord(strRecord(raw, 'containerEnv', path), 'containerEnv', {}, warnings);
  const remoteEnv = envRecord(strRecord(raw, 'remoteEnv', path), 'remoteEnv', containerEnv, warnings);
  const onCreateCommand = commandVars(lifecycle(raw, 'onCreateCommand', path), 'onCreateCommand', path, containerEnv, warnings);
  const updateContentCommand = commandVars(lifecycle(raw, 'updateContentCommand', path), 'updateContentCommand', path, containerEnv, warnings);
  const postCreateCommand = commandVars(lifecycle(raw, 'postCreateCommand', path), 'postCreateCommand', path, containerEnv, warnings);
  return {
    path,
    ...(image ? { image } : {}),
    ...(build ? { build } : {}),
    onCreateCommand,
    updateContentCommand,
    postCreateCommand,
    setup: [...onCreateCommand, ...updateContentCommand, ...postCreateCommand],
    containerEnv,
    remoteEnv,
    warnings: [...new Set(warnings)],
  };
}
