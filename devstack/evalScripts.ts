/**
 * Scripted models for eval suites (offline runs of `nightshift eval` and its tests).
 *
 * - The scripted AGENT: each task may ship `scripted/<name>.json` (`{"steps": [ScriptStep…],
 *   "final": "…"}`, agent-neutral steps as in scriptedModel.ts). A request picks the task by its
 *   title (the prompt carries it) and the behaviour by the marker `eval-script: <name>` that the
 *   variant puts in the request (its CLAUDE.md / AGENTS.md, which the agent CLI sends, or its
 *   prompt addition). So a variant's setup decides what the scripted agent does, as it would
 *   steer a real model, and one variant can be better by construction.
 * - The scripted JUDGE (requests carrying evals/judge.ts's marker): scores from the test results
 *   in its prompt: 9 when the hidden and visible tests pass, 3 when only the visible ones do, 1
 *   otherwise, 0 for no change; its reasons say which.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { JUDGE_MARKER } from '../evals/judge.js';
import type { Script, ScriptedUsage, ScriptStep } from './scriptedModel.js';

/** One scripted behaviour of a task. */
export interface ScriptedAgent {
  steps: ScriptStep[];
  /** The agent's closing message. */
  final: string;
}

const usage = z.strictObject({ input: z.number().int().min(0), output: z.number().int().min(0), cacheRead: z.number().int().min(0).optional(), cacheWrite: z.number().int().min(0).optional() }).optional();
const stepSchema = z.union([
  z.strictObject({ bash: z.string().min(1), usage }),
  z.strictObject({ write: z.strictObject({ path: z.string().min(1), content: z.string() }), usage }),
  z.strictObject({ edit: z.strictObject({ path: z.string().min(1), old: z.string().min(1), new: z.string() }), usage }),
  z.strictObject({ read: z.strictObject({ path: z.string().min(1) }), usage }),
  z.strictObject({ text: z.string(), usage }),
]);
const scriptedFileSchema = z.strictObject({ steps: z.array(stepSchema), final: z.string().min(1) });

/** The marker a variant puts in the agent's request to choose a scripted behaviour. */
export const EVAL_SCRIPT_MARKER = /eval-script:\s*([A-Za-z0-9_-]+)/;

/**
 * Reads `<taskDir>/scripted/*.json` (none: an empty record).
 * @throws Error naming the file when one does not fit the schema (a zod error as cause).
 */
export async function loadScriptedAgents(taskDir: string): Promise<Record<string, ScriptedAgent>> {
  const dir = join(taskDir, 'scripted');
  const files = await readdir(dir).catch(() => [] as string[]);
  const out: Record<string, ScriptedAgent> = {};
  for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
    const parsed = scriptedFileSchema.safeParse(JSON.parse(await readFile(join(dir, f), 'utf8')));
    if (!parsed.success) throw new Error(`${join(dir, f)}: not a scripted behaviour (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`, { cause: parsed.error });
    out[basename(f, '.json')] = parsed.data as ScriptedAgent;
  }
  return out;
}

/** Usage one scripted judgement reports (tokens). */
export const JUDGE_USAGE: Required<ScriptedUsage> = { input: 2000, output: 120, cacheRead: 0, cacheWrite: 0 };

function systemText(request: unknown): string {
  const system = (request as { system?: unknown } | undefined)?.system;
  return typeof system === 'string' ? system : JSON.stringify(system ?? '');
}

function userText(request: unknown): string {
  const messages = (request as { messages?: Array<{ role?: string; content?: unknown }> } | undefined)?.messages ?? [];
  return messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n');
}

/** The scripted judge's verdict on a judge prompt (evals/judge.ts judgePrompt). Pure. */
export function scriptedVerdict(prompt: string): { score: number; reasons: string[] } {
  const visible = /^Visible tests[^:]*: PASSED/m.test(prompt);
  const hidden = /^Hidden tests[^:]*: PASSED/m.test(prompt);
  if (prompt.includes('```diff\n(no change)\n```')) return { score: 0, reasons: ['no change was made'] };
  if (visible && hidden) return { score: 9, reasons: ['the visible and the hidden tests pass: the change handles the general case'] };
  if (visible) return { score: 3, reasons: ['the visible tests pass but the hidden tests fail: the change fits the tested inputs only'] };
  if (hidden) return { score: 5, reasons: ['the hidden tests pass but the visible tests fail'] };
  return { score: 1, reasons: ['neither the visible nor the hidden tests pass'] };
}

/**
 * The scripted model of an eval suite: judge requests get {@link scriptedVerdict}, side requests
 * a short text, agent requests the steps of (task by title) × (behaviour by marker).
 */
export function evalSuiteScript(tasks: Array<{ title: string; agents: Record<string, ScriptedAgent> }>): Script {
  return (ctx) => {
    if (systemText(ctx.request).includes(JUDGE_MARKER)) return { text: JSON.stringify(scriptedVerdict(userText(ctx.request))), usage: JUDGE_USAGE };
    if (ctx.sideRequest) return { text: 'OK', usage: { input: 50, output: 2 } };
    const body = JSON.stringify(ctx.request);
    const task = tasks.find((t) => body.includes(JSON.stringify(t.title).slice(1, -1)));
    const marker = EVAL_SCRIPT_MARKER.exec(body)?.[1];
    const agent = task && marker ? task.agents[marker] : undefined;
    if (!agent) return { text: `No scripted behaviour for this request (task: ${task?.title ?? 'unknown'}; eval-script: ${marker ?? 'none'}).` };
    return agent.steps[ctx.turn] ?? { text: agent.final };
  };
}
