/**
 * The eval report: per variant the pass rates (visible tests, hidden tests) with Wilson
 * intervals, the judge's mean score, cost and time per run with bootstrap intervals, the ranking,
 * and the per-task table. Rendered as Markdown (stdout) and as JSON (`--json`). Pure.
 */
import type { EvalRunResult } from './runner.js';
import { bootstrapMean, wilson, type Estimate } from './stats.js';

/** One variant's figures. Rates in [0, 1]; judge 0–10; USD per run; ms per run. */
export interface VariantSummary {
  variant: string;
  /** 1 = best: by hidden pass rate, then judge mean, then visible pass rate, then cost. */
  rank: number;
  runs: number;
  /** Runs whose eval failed (infrastructure): counted as not passing. */
  errors: number;
  visiblePass: Estimate;
  hiddenPass: Estimate;
  judge: Estimate;
  agentUsd: Estimate;
  judgeUsd: number;
  totalUsd: number;
  durationMs: Estimate;
}

/** One row of the per-task table (a task under a variant, over its repeats). */
export interface TaskRow {
  task: string;
  variant: string;
  runs: number;
  visiblePassed: number;
  hiddenPassed: number;
  judgeMean: number;
  agentUsdMean: number;
  durationMsMean: number;
  outcomes: string[];
}

/** The whole report (the `--json` file). */
export interface EvalReport {
  suite: string;
  generatedAt: string;
  repeat: number;
  judgeModel: string;
  variants: VariantSummary[];
  tasks: TaskRow[];
  runs: EvalRunResult[];
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Summarises the runs (pure; variants in the order first seen, ranked). */
export function buildReport(runs: EvalRunResult[], meta: { suite: string; repeat: number; judgeModel: string; now?: Date }): EvalReport {
  const names = [...new Set(runs.map((r) => r.variant))];
  const summaries = names.map((variant): Omit<VariantSummary, 'rank'> => {
    const rs = runs.filter((r) => r.variant === variant);
    const judged = rs.filter((r) => r.judge).map((r) => r.judge!.score);
    const judgeUsd = rs.reduce((a, r) => a + r.judgeUsd, 0);
    const agent = rs.map((r) => r.agentUsd);
    return {
      variant,
      runs: rs.length,
      errors: rs.filter((r) => r.outcome === 'error').length,
      visiblePass: wilson(rs.filter((r) => r.visiblePassed).length, rs.length),
      hiddenPass: wilson(rs.filter((r) => r.hiddenPassed).length, rs.length),
      judge: bootstrapMean(judged),
      agentUsd: bootstrapMean(agent),
      judgeUsd,
      totalUsd: agent.reduce((a, b) => a + b, 0) + judgeUsd,
      durationMs: bootstrapMean(rs.map((r) => r.durationMs)),
    };
  });
  const num = (x: number): number => (Number.isNaN(x) ? -Infinity : x);
  const ranked = [...summaries].sort(
    (a, b) => b.hiddenPass.value - a.hiddenPass.value || num(b.judge.value) - num(a.judge.value) || b.visiblePass.value - a.visiblePass.value || a.agentUsd.value - b.agentUsd.value,
  );
  const variants = ranked.map((s, i) => ({ ...s, rank: i + 1 }));
  const tasks: TaskRow[] = [];
  for (const task of [...new Set(runs.map((r) => r.task))]) {
    for (const variant of names) {
      const rs = runs.filter((r) => r.task === task && r.variant === variant);
      if (!rs.length) continue;
      tasks.push({
        task,
        variant,
        runs: rs.length,
        visiblePassed: rs.filter((r) => r.visiblePassed).length,
        hiddenPassed: rs.filter((r) => r.hiddenPassed).length,
        judgeMean: mean(rs.filter((r) => r.judge).map((r) => r.judge!.score)),
        agentUsdMean: mean(rs.map((r) => r.agentUsd)),
        durationMsMean: mean(rs.map((r) => r.durationMs)),
        outcomes: rs.map((r) => r.outcome),
      });
    }
  }
  return { suite: meta.suite, generatedAt: (meta.now ?? new Date()).toISOString(), repeat: meta.repeat, judgeModel: meta.judgeModel, variants, tasks, runs };
}

const pct = (e: Estimate): string => (e.n === 0 ? '–' : `${Math.round(e.value * 100)}% [${Math.round(e.low * 100)}–${Math.round(e.high * 100)}]`);
const ci = (e: Estimate, f: (x: number) => string): string => (e.n === 0 ? '–' : `${f(e.value)} [${f(e.low)}–${f(e.high)}]`);
const usd = (x: number): string => `$${x.toFixed(4)}`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const one = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(1));

/** The report as Markdown: the ranking with 95 % intervals, then the per-task table. */
export function renderMarkdown(r: EvalReport): string {
  const tasks = new Set(r.tasks.map((t) => t.task)).size;
  const lines = [
    `## Eval of ${r.suite}: ${tasks} task(s) × ${r.variants.length} variant(s) × ${r.repeat} repeat(s)`,
    '',
    `Judge: ${r.judgeModel}. Intervals: 95 % (Wilson for pass rates, bootstrap for means).`,
    '',
    '| rank | variant | runs | visible tests pass | hidden tests pass | judge (0–10) | agent cost / run | time / run | total cost |',
    '|---:|---|---:|---|---|---|---|---|---:|',
    ...r.variants.map(
      (v) =>
        `| ${v.rank} | ${v.variant} | ${v.runs}${v.errors ? ` (${v.errors} error)` : ''} | ${pct(v.visiblePass)} | ${pct(v.hiddenPass)} | ${ci(v.judge, one)} | ${ci(v.agentUsd, usd)} | ${ci(v.durationMs, secs)} | ${usd(v.totalUsd)} |`,
    ),
    '',
    '### Per task',
    '',
    '| task | variant | visible | hidden | judge | agent cost | time | outcomes |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...r.tasks.map(
      (t) => `| ${t.task} | ${t.variant} | ${t.visiblePassed}/${t.runs} | ${t.hiddenPassed}/${t.runs} | ${one(t.judgeMean)} | ${usd(t.agentUsdMean)} | ${secs(t.durationMsMean)} | ${t.outcomes.join(', ')} |`,
    ),
  ];
  const notes = r.runs.filter((x) => x.error || x.judgeError || x.gates.length);
  if (notes.length) {
    lines.push('', '### Notes', '');
    for (const x of notes) {
      const what = [x.error ? `error ${x.error.code}: ${x.error.message}` : '', x.judgeError ? `judge: ${x.judgeError}` : '', ...x.gates].filter(Boolean).join('; ');
      lines.push(`- ${x.variant} / ${x.task} #${x.repeat} (${x.workflowId}): ${what}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
