/**
 * Configuration of task classification and model routing (issue 12): `models.tiers`, `routing`
 * (default policy; also `repos.<name>.routing`) and `classification`. See the README's
 * "Model routing" section and workflows/routing.ts for what the policy does.
 */
import { z } from 'zod';
import { MODEL_TIERS, TASK_RISKS, TASK_SIZES, TASK_TYPES, type RoutingPolicy } from '../workflows/routing.js';

const tier = z.enum(MODEL_TIERS);
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

/** One rule: `{ when: { type: [docs, tests] }, tier: small }`. */
const ruleSchema = z.strictObject({
  when: z
    .strictObject({ type: oneOrMany(z.enum(TASK_TYPES)).optional(), size: oneOrMany(z.enum(TASK_SIZES)).optional(), risk: oneOrMany(z.enum(TASK_RISKS)).optional() })
    .prefault({}),
  tier,
});

const policyObject = z.strictObject({
  /** Rules in order; the first that matches chooses the tier. */
  rules: z.array(ruleSchema).optional(),
  /** Tier when no rule matches (default `medium`). */
  defaultTier: tier.optional(),
  /** Highest tier a request override (`--tier`, `--model`) may choose. */
  maxTier: tier.optional(),
  /** After a failed attempt: `true` one tier up, or a tier; `false` the same model. */
  escalateModelOnRetry: z.union([z.boolean(), tier]).optional(),
});

/**
 * A routing policy: the list of rules (`routing: [{ when: …, tier: … }]`), or an object with
 * `rules`, `defaultTier`, `maxTier`, `escalateModelOnRetry`. A repository's policy overrides the
 * default policy key by key (its `rules`, when given, replace the default rules).
 */
export const routingSchema = z.preprocess((v) => (Array.isArray(v) ? { rules: v } : v), policyObject);
/** A routing policy as written in the configuration (keys optional). */
export type RoutingConfig = z.infer<typeof policyObject>;

const tierModels = z.strictObject({ small: z.string().min(1), medium: z.string().min(1), large: z.string().min(1) });

/**
 * Default models of each tier per agent (known models of each; all priced by the bundled price
 * table of `@pydantic/genai-prices`).
 */
export const DEFAULT_TIER_MODELS = {
  'claude-code': { small: 'claude-haiku-4-5', medium: 'claude-sonnet-4-5', large: 'claude-opus-4-5' },
  codex: { small: 'gpt-5-mini', medium: 'gpt-5.5', large: 'gpt-5.5-pro' },
} as const;

/**
 * `models.tiers`: per agent (`claude-code`, alias `claude`; `codex`) the model of each tier.
 * Missing tiers take {@link DEFAULT_TIER_MODELS}.
 */
export const modelsSchema = z
  .strictObject({
    tiers: z
      .preprocess(
        (v) => {
          if (typeof v !== 'object' || v === null || !('claude' in v)) return v;
          const { claude, ...rest } = v as Record<string, unknown>;
          return { 'claude-code': claude, ...rest };
        },
        z.strictObject({ 'claude-code': tierModels.partial().optional(), codex: tierModels.partial().optional() }),
      )
      .optional(),
  })
  .prefault({})
  .transform((m) => ({
    tiers: {
      'claude-code': { ...DEFAULT_TIER_MODELS['claude-code'], ...(m.tiers?.['claude-code'] ?? {}) },
      codex: { ...DEFAULT_TIER_MODELS.codex, ...(m.tiers?.codex ?? {}) },
    },
  }));

/**
 * `classification`: how a task is classified at scope (activities/classify.ts). `model`: the
 * cheap Anthropic model (e.g. the one of `scope.clarify.model`); without one, config and defaults
 * decide. `labels`: a request label → task type (forces the type). `enabled: false` skips the
 * model call.
 */
export const classificationSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    model: z.string().min(1).optional(),
    labels: z.record(z.string().min(1), z.enum(TASK_TYPES)).default({}),
  })
  .prefault({});

/** Default policy values when neither the default nor the repository's policy says. */
export const DEFAULT_POLICY: RoutingPolicy = { rules: [], defaultTier: 'medium' };

/** The effective policy of a repository: its own keys over the default policy's, over {@link DEFAULT_POLICY}. Pure. */
export function effectivePolicy(base: RoutingConfig | undefined, repo: RoutingConfig | undefined): RoutingPolicy {
  const pick = <K extends keyof RoutingConfig>(k: K) => (repo?.[k] !== undefined ? repo[k] : base?.[k]);
  const maxTier = pick('maxTier');
  const escalate = pick('escalateModelOnRetry');
  return {
    rules: pick('rules') ?? DEFAULT_POLICY.rules,
    defaultTier: pick('defaultTier') ?? DEFAULT_POLICY.defaultTier,
    ...(maxTier ? { maxTier } : {}),
    ...(escalate !== undefined ? { escalateModelOnRetry: escalate } : {}),
  };
}
