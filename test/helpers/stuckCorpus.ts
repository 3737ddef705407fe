/**
 * The stuck-detection regression corpus (test/fixtures/stuck-corpus/): real Claude Code
 * `stream-json` and Codex `exec --json` transcripts, each with a `.meta.json` saying what it is
 * (healthy, or stuck by which rule), when each line was read, and what the work-tree watcher saw
 * after each call. Recorded by ./recordStuckCorpus.ts; replayed here through the real parser and
 * the real detector, by the same {@link StreamMonitor} the `runAgent` activity uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClaudeStreamParser } from '../../activities/agents/claudeStream.js';
import { CodexStreamParser } from '../../activities/agents/codexStream.js';
import { StreamMonitor, StuckDetector, type ChangeSource } from '../../activities/stuck.js';
import { configSchema, type StuckThresholds } from '../../worker/config.js';
import type { StuckRule, StuckVerdict } from '../../workflows/types.js';
import { fixturePath } from './paths.js';

/** The `<name>.meta.json` next to each `<name>.jsonl` transcript. */
export interface CorpusMeta {
  agent: 'claude' | 'codex';
  label: 'healthy' | 'stuck';
  /** The rule a stuck transcript must be caught by. */
  rule?: StuckRule;
  /** What the scripted model made the agent do. */
  description: string;
  /** Thresholds that differ from the configuration's defaults (e.g. a short silence limit). */
  thresholds: Partial<StuckThresholds>;
  testCommand: string;
  /** When each line of the transcript was read, ms after the CLI started (one per line). */
  lineAtMs: number[];
  /** What the work-tree watcher answered, in order (one entry per call that was not read-only). */
  changes: string[][];
  /** When the recording ended (the CLI exited, or was stopped on a verdict), ms after start. */
  endMs: number;
  cliVersion: string;
  recordedAt: string;
}

/** One corpus entry. */
export interface CorpusCase {
  name: string;
  transcript: string;
  meta: CorpusMeta;
}

/** Period of the simulated silence checks, ms (the activity's tick is 1000 ms). */
const TICK_MS = 250;

/** The corpus directory. */
export function corpusDir(): string {
  return fixturePath('stuck-corpus');
}

/** Every case of the corpus, sorted by name. */
export function loadCorpus(dir = corpusDir()): CorpusCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.jsonl'.length);
      return {
        name,
        transcript: readFileSync(join(dir, f), 'utf8'),
        meta: JSON.parse(readFileSync(join(dir, `${name}.meta.json`), 'utf8')) as CorpusMeta,
      };
    });
}

/** The configuration's defaults with a case's overrides. */
export function thresholdsOf(meta: Pick<CorpusMeta, 'thresholds'>): StuckThresholds {
  return { ...configSchema.shape.stuck.parse(undefined), ...meta.thresholds };
}

/** A fresh parser for an agent. */
export function parserFor(agent: CorpusMeta['agent']): ClaudeStreamParser | CodexStreamParser {
  return agent === 'claude' ? new ClaudeStreamParser() : new CodexStreamParser();
}

/** What a replay decided. */
export interface ReplayResult {
  verdict?: StuckVerdict;
  /** ms after start at which the verdict was reached. */
  atMs?: number;
  /** Index of the transcript line that produced the verdict (-1 when a silence check did). */
  line?: number;
  /** Watcher answers the replay asked for (must equal the recorded number). */
  changesAsked: number;
}

/**
 * Replays a case: every line at its recorded time through the real parser and detector, with the
 * recorded work-tree answers, and silence checks every 250 ms in between and until the recording's
 * end, as the activity does.
 */
export async function replay(c: CorpusCase): Promise<ReplayResult> {
  const lines = c.transcript.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const { meta } = c;
  let asked = 0;
  const changes: ChangeSource = { changes: async () => meta.changes[asked++] ?? [] };
  const start = 1_700_000_000_000;
  const detector = new StuckDetector(thresholdsOf(meta), { testCommand: meta.testCommand, reportsShellChanges: true, now: () => start });
  const result: ReplayResult = { changesAsked: 0 };
  let line = -1;
  let now = start;
  const monitor = new StreamMonitor({
    parser: parserFor(meta.agent),
    detector,
    changes,
    onVerdict: (v) => {
      result.verdict = v;
      result.atMs = now - start;
      result.line = line;
    },
  });
  const tickUntil = (ms: number): void => {
    for (let t = Math.ceil((now - start) / TICK_MS) * TICK_MS; t < ms; t += TICK_MS) {
      now = start + t;
      monitor.checkSilence(now);
    }
  };
  for (const [i, text] of lines.entries()) {
    const at = meta.lineAtMs[i] ?? meta.lineAtMs.at(-1) ?? 0;
    tickUntil(at);
    now = start + at;
    line = i;
    monitor.push(text, now);
    await monitor.drained();
    line = -1;
  }
  tickUntil(meta.endMs + 1);
  result.changesAsked = asked;
  return result;
}
