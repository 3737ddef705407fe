/**
 * `nightshift eval SUITE [--variant A.yaml --variant B.yaml] [--repeat N] [--concurrency N]
 * [--tasks a,b] [--judge-model M] [--json out.json] [--markdown out.md]`: runs an eval suite (suite.ts) through the
 * real pipeline on a local stack (runner.ts), prints progress to stderr and the report (Markdown)
 * to stdout. Offline with the scripted models (devstack/evalScripts.ts) unless ANTHROPIC_API_KEY
 * is set, in which case the agent and the judge use Anthropic through the gateway.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { evalSuiteScript, loadScriptedAgents } from '../devstack/evalScripts.js';
import { createRootLogger } from '../worker/logger.js';
import { buildReport, renderMarkdown } from './report.js';
import { runEval, type EvalRunResult } from './runner.js';
import { loadSuite } from './suite.js';
import { loadVariant, variantFrom, type Variant } from './variant.js';

const positiveInt = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/** A variant path as given, else inside the suite (`<suite>/<f>`, `<suite>/variants/<f>`). */
export async function resolveVariantPath(file: string, suiteDir: string): Promise<string> {
  for (const p of [resolve(file), join(suiteDir, file), join(suiteDir, 'variants', file)]) if (await exists(p)) return p;
  throw new InvalidArgumentError(`--variant ${file}: no such file (looked here, in ${suiteDir} and in ${join(suiteDir, 'variants')})`);
}

/** One progress line (stderr). */
export function progressLine(e: { kind: 'started' | 'graded'; variant: string; task: string; repeat: number; done: number; total: number; result?: EvalRunResult }): string {
  const head = `[${e.done}/${e.total}] ${e.variant} ${e.task} #${e.repeat}`;
  if (e.kind === 'started' || !e.result) return `${head}: running\n`;
  const r = e.result;
  const mark = (b: boolean): string => (b ? 'pass' : 'fail');
  return `${head}: ${r.outcome}, visible ${mark(r.visiblePassed)}, hidden ${r.hiddenRan ? mark(r.hiddenPassed) : 'not run'}, judge ${r.judge ? r.judge.score : '–'}, $${r.agentUsd.toFixed(4)}, ${(r.durationMs / 1000).toFixed(1)} s${r.error ? ` (${r.error.code})` : ''}\n`;
}

/** Registers `nightshift eval`. */
export function registerEvalCommand(program: Command, out: (s: string) => void = (s) => void process.stdout.write(s), err: (s: string) => void = (s) => void process.stderr.write(s)): void {
  program
    .command('eval')
    .description('run an eval suite through the pipeline on a local stack and compare variants of the agent setup')
    .argument('<suite>', 'suite folder (one task folder each: instruction.md, task.toml, repo/, tests/, judge.md)')
    .option('--variant <file>', 'variant YAML (repeatable; default: one variant with no change)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--repeat <n>', 'runs of each task per variant', positiveInt('--repeat'), 1)
    .option('--concurrency <n>', 'runs at once', positiveInt('--concurrency'), 2)
    .option('--tasks <names>', 'only these tasks (comma-separated folder names)')
    .option('--judge-model <model>', "the judge's model (priced in the stack's gateway)", 'claude-sonnet-4-5')
    .option('--json <file>', 'also write the report as JSON')
    .option('--markdown <file>', 'also write the Markdown report to a file (stdout also carries the dev server banner)')
    .action(async (suiteDir: string, o: { variant: string[]; repeat: number; concurrency: number; tasks?: string; judgeModel: string; json?: string; markdown?: string }) => {
      const suite = await loadSuite(suiteDir, o.tasks?.split(',').map((s) => s.trim()).filter(Boolean));
      const variants: Variant[] = o.variant.length ? await Promise.all(o.variant.map(async (f) => loadVariant(await resolveVariantPath(f, suite.dir)))) : [variantFrom({}, 'baseline')];
      const dup = variants.map((v) => v.name).find((n, i, a) => a.indexOf(n) !== i);
      if (dup) throw new InvalidArgumentError(`two variants are named "${dup}": give them distinct \`name\`s`);
      const apiKey = process.env.ANTHROPIC_API_KEY || undefined;
      process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
      const logger = createRootLogger(process.env.LOG_LEVEL ?? 'error');
      const script = apiKey ? undefined : evalSuiteScript(await Promise.all(suite.tasks.map(async (t) => ({ title: t.title, agents: await loadScriptedAgents(t.dir) }))));
      err(`eval: ${suite.tasks.length} task(s) × ${variants.length} variant(s) × ${o.repeat}, ${o.concurrency} at once; models: ${apiKey ? 'Anthropic (ANTHROPIC_API_KEY)' : 'scripted (offline)'}\n`);
      const runs = await runEval({ suite, variants, repeat: o.repeat, concurrency: o.concurrency, judgeModel: o.judgeModel, ...(script ? { script } : {}), ...(apiKey ? { realAnthropicKey: apiKey } : {}), logger, onProgress: (e) => err(progressLine(e)) });
      const report = buildReport(runs, { suite: suiteDir, repeat: o.repeat, judgeModel: o.judgeModel });
      const md = renderMarkdown(report);
      out(md);
      if (o.markdown) await writeFile(o.markdown, md);
      if (o.json) await writeFile(o.json, `${JSON.stringify(report, null, 2)}\n`);
    });
}
