/**
 * The report's charts as SVG, rendered in Node by Vega-Lite (compile) and Vega (`View.toSVG()`,
 * the headless `none` renderer), so the HTML page needs no script and no network.
 * https://vega.github.io/vega/usage/#view-api, https://vega.github.io/vega-lite/usage/compile.html
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Calibration, DailyPoint } from './build.js';

/** One rendered chart. */
export interface Chart {
  id: string;
  title: string;
  /** A standalone `<svg>` element. */
  svg: string;
}

const WIDTH = 560;
const HEIGHT = 220;

/** Vega-Lite spec → SVG text. Throws Vega's error on an invalid spec. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function overTime(points: DailyPoint[], measure: 'successRate' | 'usd', label: string): TopLevelSpec {
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: points },
    config: { font: 'sans-serif' },
  } as const;
  if (measure === 'successRate') {
    return {
      ...base,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'day', type: 'ordinal', title: 'day (UTC)', axis: { labelAngle: -40 } },
        y: { field: 'successRate', type: 'quantitative', title: label, axis: { format: '.0%' }, scale: { domain: [0, 1] } },
        color: { field: 'series', type: 'nominal', title: null },
      },
    };
  }
  return {
    ...base,
    mark: 'bar',
    encoding: {
      x: { field: 'day', type: 'ordinal', title: 'day (UTC)', axis: { labelAngle: -40 } },
      y: { field: 'usd', type: 'quantitative', title: label, aggregate: 'sum', axis: { format: '$.2f' } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** The report's charts: success and cost by task type and by model over both periods, and the cost/success scatter. */
export async function renderCharts(c: Calibration): Promise<Chart[]> {
  const byType = c.daily.filter((p) => p.dimension === 'taskType');
  const byModel = c.daily.filter((p) => p.dimension === 'model');
  const scatter: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT + 60,
    data: { values: c.scatter },
    config: { font: 'sans-serif' },
    layer: [
      {
        mark: { type: 'point', filled: true, opacity: 0.8 },
        encoding: {
          x: { field: 'medianUsd', type: 'quantitative', title: 'median cost per run (USD)', axis: { format: '$.2f' } },
          y: { field: 'successRate', type: 'quantitative', title: 'success (PR opened, not closed unmerged)', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
          color: { field: 'model', type: 'nominal', title: 'model' },
          size: { field: 'runs', type: 'quantitative', title: 'runs', scale: { range: [60, 600] } },
        },
      },
      {
        mark: { type: 'text', dy: -12, fontSize: 10 },
        encoding: {
          x: { field: 'medianUsd', type: 'quantitative' },
          y: { field: 'successRate', type: 'quantitative' },
          text: { field: 'taskType' },
        },
      },
    ],
  };
  const specs: Array<[string, string, TopLevelSpec]> = [
    ['success-by-type', 'Success by task type, per day', overTime(byType, 'successRate', 'success')],
    ['cost-by-type', 'Cost by task type, per day', overTime(byType, 'usd', 'spend (USD)')],
    ['success-by-model', 'Success by model, per day', overTime(byModel, 'successRate', 'success')],
    ['cost-by-model', 'Cost by model, per day', overTime(byModel, 'usd', 'spend (USD)')],
    ['cost-success', 'Cost and success per model (one point per task type, this period)', scatter],
  ];
  const out: Chart[] = [];
  for (const [id, title, spec] of specs) out.push({ id, title, svg: await renderSvg(spec) });
  return out;
}
