/**
 * Benchmark: the worker's memory under a realistic load (V8 flags: pass them in NODE_OPTIONS to
 * compare, e.g. `--max-old-space-size=…`). BENCH_MEMORY_RUNS (4, the default
 * `queue.maxConcurrent`) scripted calculator runs at once through the whole local stack
 * (devstack/stack.ts: worker, gateway, sandboxes, GitHub/Linear stand-ins, scripted model, all in
 * this process), each to its pull request; this process's RSS and V8 heap sampled every 200 ms.
 * The figure is an upper bound of the worker's own: the stand-ins share the process.
 * A heap limit that risked the runs would show as a failed run or a crash here.
 */
import { randomUUID } from 'node:crypto';
import { fixCalculatorScript } from '../devstack/scripts.js';
import { LocalStack } from '../devstack/stack.js';
import { runResult, startRun } from '../worker/runs.js';
import { workflowIdFor, type TaskRequest } from '../workflows/types.js';
import { envInt, median, printTable, printVerdict } from './lib.js';

const RUNS = envInt('BENCH_MEMORY_RUNS', 4, 1, 16);

const rss: number[] = [];
const heap: number[] = [];
const sample = (): void => {
  const m = process.memoryUsage();
  rss.push(m.rss / 2 ** 20);
  heap.push(m.heapUsed / 2 ** 20);
};

const stack = await LocalStack.start({ script: fixCalculatorScript(), maxConcurrentActivities: RUNS * 2 });
try {
  sample();
  const idle = rss[0]!;
  const timer = setInterval(sample, 200);
  const t0 = Date.now();
  const ids = Array.from({ length: RUNS }, () => workflowIdFor({ kind: 'cli' }, randomUUID()));
  await Promise.all(
    ids.map((id, i) => {
      const req: TaskRequest = {
        source: { kind: 'cli' },
        requester: 'bench',
        repo: 'calculator',
        title: `Fix add() (run ${i})`,
        task: 'add() in calc.py returns the wrong result. Done when `python3 -m unittest` passes.',
        overrides: { now: true },
      };
      return startRun(stack.client, stack.config.temporal.taskQueue, id, req);
    }),
  );
  const outcomes = await Promise.all(ids.map((id) => runResult(stack.client, id)));
  clearInterval(timer);
  const wallS = (Date.now() - t0) / 1000;
  const opened = outcomes.filter((o) => o.kind === 'pr_opened').length;
  const peak = Math.max(...rss);
  printTable(`${RUNS} runs at once (all ended in ${wallS.toFixed(1)} s; ${opened}/${RUNS} opened their PR)`, [
    { what: 'process RSS idle (stack started)', samples: [idle], unit: 'MB', target: '-', digits: 0 },
    { what: 'process RSS during the runs (sampled)', samples: rss, unit: 'MB', target: '-', digits: 0 },
    { what: 'main-thread V8 heap used (sampled)', samples: heap, unit: 'MB', target: '-', digits: 0 },
    { what: 'all runs ended with their PR', samples: [opened], unit: '', target: `= ${RUNS}`, met: opened === RUNS, digits: 0 },
  ]);
  printVerdict(opened === RUNS, `${opened}/${RUNS} PRs; peak RSS ${peak.toFixed(0)} MB, median ${median(rss).toFixed(0)} MB`);
} finally {
  await stack.stop();
}
