/**
 * Variants of the agent setup: a YAML file that changes what a real change would.
 *
 * Eval keys (below) say what is written into each task's repository or given to each run; the
 * other top-level keys ({@link VARIANT_CONFIG_KEYS}: `routing`, `models`, `classification`,
 * `stuck`, `scope`, `escalationWaitHours`) are configuration overlays, deep-merged onto the eval's
 * base configuration and validated by the configuration's own schema when the variant's stack
 * starts. Any other key is refused: a shared variant must not point the gateway (and the real
 * model key) elsewhere, mount host files or open egress.
 *
 * ```yaml
 * name: B-root-cause          # default: the file name without extension
 * claudeMd: "…"               # CLAUDE.md written at the repository root before the run (committed)
 * agentsMd: "…"               # AGENTS.md, the same way (Codex reads it)
 * prompt: "…"                 # appended to every task's text
 * agent: claude-code          # or codex
 * model: claude-sonnet-4-5    # the agent's model (must have a price in gateway.prices)
 * budget: { minutes: 10, tokens: 2000000, usd: 2 }
 * maxAttempts: 2
 * repo: { … }                 # overlay onto every task's `repos.<task>` entry (VARIANT_REPO_KEYS only)
 * routing: { … }              # configuration overlays: VARIANT_CONFIG_KEYS only
 * ```
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EvalError } from './errors.js';

const evalKeys = {
  name: z.string().min(1).max(60).optional(),
  description: z.string().optional(),
  claudeMd: z.string().optional(),
  agentsMd: z.string().optional(),
  prompt: z.string().optional(),
  agent: z.enum(['claude-code', 'codex']).optional(),
  model: z.string().min(1).optional(),
  budget: z.strictObject({ minutes: z.number().positive(), tokens: z.number().int().positive(), usd: z.number().positive() }).partial().optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  repo: z.record(z.string(), z.unknown()).optional(),
};

/**
 * Configuration keys a variant may overlay: what a change to the agent's setup touches. Suites and
 * their variants are shared like code, and the eval runs on the operator's machine with the
 * operator's keys: the gateway (upstream URLs, where the real model key goes), environments (host
 * files mounted into setup containers, egress), the sandbox, the platforms, the ledger and the
 * worker stay the operator's.
 */
export const VARIANT_CONFIG_KEYS = ['routing', 'models', 'classification', 'stuck', 'scope', 'escalationWaitHours'] as const;

/**
 * Keys of a task's repository entry a variant may overlay (`repo:`); the repository's URL, its
 * environment and Dockerfile stay the suite's and the operator's.
 */
export const VARIANT_REPO_KEYS = ['agent', 'models', 'budget', 'maxBudget', 'maxAttempts', 'riskyPaths', 'maxChangedFiles', 'maxChangedLines', 'validation', 'routing'] as const;

const overlayKeys = Object.fromEntries(VARIANT_CONFIG_KEYS.map((k) => [k, z.unknown().optional()]));

/** The variant file's schema: the eval keys and the allowed configuration overlays; any other key is refused. */
export const variantSchema = z.strictObject({
  ...evalKeys,
  repo: z.partialRecord(z.enum(VARIANT_REPO_KEYS), z.unknown()).optional(),
  ...overlayKeys,
});

/** A loaded variant. */
export interface Variant {
  name: string;
  description?: string;
  /** Path of the file it came from (absent for one built in code). */
  file?: string;
  claudeMd?: string;
  agentsMd?: string;
  prompt?: string;
  agent?: 'claude-code' | 'codex';
  model?: string;
  /** Per-run budget; minutes of wall clock, tokens, USD. */
  budget?: { minutes?: number; tokens?: number; usd?: number };
  maxAttempts?: number;
  /** Overlay onto each task's `repos.<task>` configuration entry. */
  repo?: Record<string, unknown>;
  /** Overlay onto the whole configuration (every key not listed above). */
  config: Record<string, unknown>;
}

/**
 * Reads a variant from its parsed YAML (pure).
 * @throws EvalError VARIANT_INVALID naming the bad key.
 */
export function variantFrom(raw: unknown, fallbackName: string, file?: string): Variant {
  const parsed = variantSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new EvalError('VARIANT_INVALID', `${file ?? fallbackName}:\n  ${issues.join('\n  ')}`, { issues });
  }
  const { name, description, claudeMd, agentsMd, prompt, agent, model, budget, maxAttempts, repo, ...config } = parsed.data;
  return {
    name: name ?? fallbackName,
    ...(file ? { file } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(claudeMd !== undefined ? { claudeMd } : {}),
    ...(agentsMd !== undefined ? { agentsMd } : {}),
    ...(prompt !== undefined ? { prompt } : {}),
    ...(agent ? { agent } : {}),
    ...(model ? { model } : {}),
    ...(budget ? { budget } : {}),
    ...(maxAttempts ? { maxAttempts } : {}),
    ...(repo ? { repo } : {}),
    config,
  };
}

/**
 * Loads a variant file (YAML: https://yaml.org/spec/1.2.2/).
 * @throws EvalError VARIANT_INVALID when unreadable, not YAML, or a key is wrong.
 */
export async function loadVariant(file: string): Promise<Variant> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new EvalError('VARIANT_INVALID', `${file}: ${err instanceof Error ? err.message.split('\n')[0] : 'unreadable'}`, {}, { cause: err });
  }
  return variantFrom(raw, basename(file, extname(file)), file);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges `overlay` onto `base` in place: objects merge key by key, anything else (arrays too) replaces. */
export function deepMerge(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(overlay)) {
    const cur = base[k];
    if (isPlain(cur) && isPlain(v)) deepMerge(cur, v);
    else base[k] = structuredClone(v);
  }
  return base;
}
