/**
 * Parsing of `/nightshift` text (Slack sends it as the `text` field of the slash-command form)
 * and of @mention text. Pure: no I/O, so the dispatcher can answer bad input in the ack itself.
 *
 * Forms:
 * - `run [repo] <task> [--usd N] [--minutes N] [--agent codex|claude-code] [--tier small|medium|large] [--now] [--priority P]`
 *   (`P`: `1`–`4` or `urgent`, `high`, `normal`, `low`: the queue priority, default normal)
 *   (`repo` is a configured repository name or its GitHub `owner/name`; an `owner/name` that is
 *   not configured is an unknown repo; flags may appear anywhere; `—` typed by smart punctuation
 *   counts as `--`);
 * - `status [id]`, `cancel <id>`, `queue`, `help` (also the empty text).
 */
import type { AgentKind } from '../../../workflows/types.js';

/** Usage lines, shown by `help` and after a bad input. */
export const USAGE = {
  run: '`/nightshift run [repo] <task> [--usd N] [--minutes N] [--agent codex] [--tier small|medium|large] [--now] [--priority urgent|high|normal|low]`',
  status: '`/nightshift status [run id]`',
  cancel: '`/nightshift cancel <run id>`',
  queue: '`/nightshift queue`',
  help: '`/nightshift help`',
} as const;

/** The run arguments of `/nightshift run` and of an @mention. */
export interface RunArgs {
  /** Configured repository name, when the text names one. */
  repo?: string;
  task: string;
  /** Budget overrides: USD and wall-clock minutes. */
  usd?: number;
  minutes?: number;
  agent?: AgentKind;
  /** Model tier (`--tier`), capped by the repository's routing `maxTier`. */
  tier?: 'small' | 'medium' | 'large';
  now: boolean;
  /** Queue priority (`--priority`): 1 urgent, 2 high, 3 normal, 4 low; absent: normal. */
  priority?: number;
}

/** `--priority` words → queue priority (1 urgent … 4 low). */
export const PRIORITY_WORDS: Readonly<Record<string, number>> = { urgent: 1, high: 2, normal: 3, low: 4 };

/** A `--priority` value (`urgent`, `high`, `normal`, `low`, any case, or `1`–`4`) as 1 … 4; undefined when it is neither. */
export function parsePriority(value: string): number | undefined {
  const p = value.trim().toLowerCase();
  return Object.hasOwn(PRIORITY_WORDS, p) ? PRIORITY_WORDS[p] : /^[1-4]$/.test(p) ? Number(p) : undefined;
}

/** A parsed command. */
export type ParsedCommand =
  | { kind: 'run'; args: RunArgs }
  | { kind: 'status'; id?: string }
  | { kind: 'cancel'; id: string }
  | { kind: 'queue' }
  | { kind: 'help' };

/** A bad input: `message` (mrkdwn) says what was wrong and the correct form. */
export class CommandInputError extends Error {
  readonly code = 'SLACK_BAD_INPUT';
  constructor(
    message: string,
    readonly details: { subcommand: string },
  ) {
    super(message);
    this.name = 'CommandInputError';
  }
}

/** Repositories the parser may name: name → GitHub `owner/name`. */
export type KnownRepos = Record<string, { github: string }>;

/**
 * Parses the text of `/nightshift`.
 * @throws CommandInputError on an unknown subcommand, a missing id or task, a bad flag or value,
 *   or an unknown repository.
 */
export function parseCommand(text: string, repos: KnownRepos): ParsedCommand {
  const [sub = 'help', ...rest] = tokens(text);
  switch (sub.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'run':
      return { kind: 'run', args: parseRunArgs(rest, repos, 'run') };
    case 'status':
      if (rest.length > 1) throw new CommandInputError(`\`status\` takes at most one run id. Use ${USAGE.status}.`, { subcommand: 'status' });
      return rest[0] ? { kind: 'status', id: checkId(rest[0], 'status') } : { kind: 'status' };
    case 'cancel':
      if (rest.length !== 1 || !rest[0]) throw new CommandInputError(`\`cancel\` needs exactly one run id. Use ${USAGE.cancel}.`, { subcommand: 'cancel' });
      return { kind: 'cancel', id: checkId(rest[0], 'cancel') };
    case 'queue':
      if (rest.length > 0) throw new CommandInputError(`\`queue\` takes no arguments. Use ${USAGE.queue}.`, { subcommand: 'queue' });
      return { kind: 'queue' };
    default:
      throw new CommandInputError(`Unknown subcommand \`${clip(sub)}\`. Use one of: ${Object.values(USAGE).join(', ')}.`, { subcommand: sub });
  }
}

/**
 * Parses run arguments (after `run`, or the text of an @mention without the bot's mention).
 * @throws CommandInputError as {@link parseCommand}.
 */
export function parseRunArgs(words: string[], repos: KnownRepos, subcommand = 'run'): RunArgs {
  const bad = (what: string): never => {
    throw new CommandInputError(`${what}. Use ${USAGE.run}.`, { subcommand });
  };
  const out: RunArgs = { task: '', now: false };
  const taskWords: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = (words[i] ?? '').replace(/^[—–]/, '--');
    if (!w.startsWith('--')) {
      taskWords.push(words[i] ?? '');
      continue;
    }
    const [flag, inline] = w.split('=', 2) as [string, string | undefined];
    const value = (): string => inline ?? words[++i] ?? bad(`\`${flag}\` needs a value`);
    switch (flag) {
      case '--usd':
        out.usd = positive(value(), flag, bad);
        break;
      case '--minutes':
        out.minutes = positive(value(), flag, bad);
        break;
      case '--agent': {
        const a = value();
        if (a !== 'codex' && a !== 'claude-code') bad(`\`--agent\` must be \`codex\` or \`claude-code\`, not \`${clip(a)}\``);
        out.agent = a as AgentKind;
        break;
      }
      case '--tier': {
        const t = value().toLowerCase();
        if (t !== 'small' && t !== 'medium' && t !== 'large') bad(`\`--tier\` must be \`small\`, \`medium\` or \`large\`, not \`${clip(t)}\``);
        out.tier = t as 'small' | 'medium' | 'large';
        break;
      }
      case '--priority': {
        const p = value().toLowerCase();
        const n = parsePriority(p);
        if (n === undefined) bad(`\`--priority\` must be \`urgent\`, \`high\`, \`normal\`, \`low\` or 1–4, not \`${clip(p)}\``);
        out.priority = n;
        break;
      }
      case '--now':
        if (inline !== undefined) bad('`--now` takes no value');
        out.now = true;
        break;
      default:
        bad(`Unknown option \`${clip(flag)}\``);
    }
  }
  const first = taskWords[0];
  if (first !== undefined) {
    const byName = Object.hasOwn(repos, first) ? first : undefined;
    const byGithub = Object.entries(repos).find(([, r]) => r.github.toLowerCase() === first.toLowerCase())?.[0];
    if (byName ?? byGithub) {
      out.repo = byName ?? byGithub;
      taskWords.shift();
    } else if (/^[\w.-]+\/[\w.-]+$/.test(first)) {
      bad(`Unknown repository \`${clip(first)}\` (configured: ${Object.keys(repos).map((r) => `\`${r}\``).join(', ') || 'none'})`);
    }
  }
  out.task = taskWords.join(' ').trim();
  if (!out.task) bad('The task is missing');
  return out;
}

/** Splits on whitespace (Slack sends the text as typed, newlines included). */
export function tokens(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

function positive(v: string, flag: string, bad: (what: string) => never): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) bad(`\`${flag}\` must be a positive number, not \`${clip(v)}\``);
  return n;
}

function checkId(id: string, sub: string): string {
  if (!/^[\w.:-]{1,200}$/.test(id)) throw new CommandInputError(`\`${clip(id)}\` is not a run id (ids look like \`slack-C0123-1712345678.000100\`). Use ${USAGE[sub as 'status']}.`, { subcommand: sub });
  return id;
}

/** Echoes user input safely: at most 40 characters, no backticks. */
function clip(s: string): string {
  const t = s.replace(/`/g, "'");
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}
