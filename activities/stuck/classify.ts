/**
 * What kind of call a tool call is, for the no-progress rule: a read-only call (looking at the
 * code or the repository), an edit tool (whose success the stream parsers report as a
 * `file_change`), or anything else.
 *
 * Read-only is decided from the call alone and errs on the side of "not read-only": a shell
 * command is read-only only when every segment of its pipeline / `&&` chain is a known inspection
 * command (`cat`, `ls`, `grep`, `rg`, `find` without actions, `sed -n` without `-i`, `git status|
 * diff|log|show|…`), with no output redirection to a file and no command substitution. Commands
 * that only probe the environment (`echo`, `date`, `python3 --version`) are not read-only: they
 * are not investigating the code, and count as no progress.
 */
import { commandOf, normalizeCommand } from './normalize.js';

/**
 * Tools of Claude Code and Codex that cannot change the work tree (Claude Code tool names:
 * https://docs.anthropic.com/en/docs/claude-code/settings#tools-available-to-claude; Codex's
 * `web_search` item as named by the Codex parser).
 */
const READ_ONLY_TOOLS = new Set([
  'Read',
  'Grep',
  'Glob',
  'LS',
  'NotebookRead',
  'TodoWrite',
  'TodoRead',
  'WebSearch',
  'WebFetch',
  'BashOutput',
  'ListMcpResourcesTool',
  'ReadMcpResourceTool',
  'ExitPlanMode',
  'web_search',
]);

/** Tools whose successful call the stream parsers follow with a `file_change` event. */
const EDIT_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit', 'apply_patch']);

/** Shell commands that only read (argument checks for the ones that can also write are below). */
const READ_ONLY_COMMANDS = new Set([
  'cat', 'cd', 'ls', 'll', 'head', 'tail', 'wc', 'grep', 'egrep', 'fgrep', 'rg', 'ag', 'ack', 'tree', 'pwd', 'stat', 'file', 'nl',
  'less', 'more', 'diff', 'cmp', 'uniq', 'cut', 'tr', 'basename', 'dirname', 'realpath', 'readlink', 'which', 'type', 'fd',
  'find', 'sed', 'sort', 'git', 'jq', 'column', 'od', 'xxd', 'hexdump', 'strings', 'md5sum', 'sha1sum', 'sha256sum', 'true',
]);

/** `git` subcommands that do not write the work tree or the index. */
const GIT_READ_ONLY = new Set(['status', 'diff', 'log', 'show', 'blame', 'grep', 'ls-files', 'ls-tree', 'rev-parse', 'shortlog', 'describe', 'cat-file']);

/** Output redirections that do not write a file: `2>&1`, `>&2`, `>/dev/null`, `2>/dev/null`. */
const HARMLESS_REDIRECT = /\d*>&\d|\d*>>?\s*\/dev\/null/g;

/** Whether one segment (no `|`, `&&`, `;`) of a shell command only reads. */
function readOnlySegment(segment: string): boolean {
  const words = segment
    .trim()
    .replace(/^\(+|\)+$/g, '')
    .split(/\s+/)
    .filter((w) => w && !/^\w+=\S*$/.test(w));
  const [cmd, ...args] = words;
  if (!cmd) return true;
  if (!READ_ONLY_COMMANDS.has(cmd)) return false;
  switch (cmd) {
    case 'sed':
      return args.includes('-n') && !args.some((a) => /^-[a-zA-Z]*i/.test(a) || a.startsWith('--in-place')) && !args.some((a) => /\bw\s*\S/.test(a));
    case 'find':
      return !args.some((a) => /^-(?:delete|exec|execdir|ok|okdir|fprint\w*|fls)$/.test(a));
    case 'sort':
      return !args.some((a) => /^-[a-zA-Z]*o|^--output/.test(a));
    case 'git': {
      const sub = args.find((a) => !a.startsWith('-'));
      return sub !== undefined && GIT_READ_ONLY.has(sub) && !args.includes('--output');
    }
    default:
      return true;
  }
}

/**
 * Whether a shell command only reads (see the module comment). `cd /workspace && cat a.ts | head`
 * is; `sed -i …`, `cat > f`, `echo hi`, `cat $(…)` are not.
 */
export function isReadOnlyCommand(command: string): boolean {
  const c = normalizeCommand(command);
  if (!c || /\$\(|`|<\(|>\(/.test(c)) return false;
  if (c.replace(HARMLESS_REDIRECT, '').includes('>')) return false;
  return c
    .replace(HARMLESS_REDIRECT, '')
    .split(/\s*(?:&&|\|\||;|\|)\s*/)
    .every(readOnlySegment);
}

/** Whether a tool call only reads: a read-only tool, or a shell call whose command only reads. */
export function isReadOnlyCall(name: string, input: unknown): boolean {
  if (READ_ONLY_TOOLS.has(name)) return true;
  const command = commandOf(input);
  return command !== undefined && isReadOnlyCommand(command);
}

/** Whether a tool is an edit tool, whose success the stream parsers report as a `file_change`. */
export function isEditTool(name: string): boolean {
  return EDIT_TOOLS.has(name);
}
