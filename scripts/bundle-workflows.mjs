#!/usr/bin/env node
// Builds the workflow bundle ahead of time (dist/workflow-bundle.js + its manifest), e.g. in a
// container image, so that the worker's first start does not bundle. The worker also builds it on
// demand (in a child process) when it is missing or stale: see worker/workflowBundle.ts.
// Usage: node scripts/bundle-workflows.mjs [entry.js] [out.js]   (after npm run build)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundler = fileURLToPath(new URL('../dist/worker/workflowBundle.js', import.meta.url));
if (!existsSync(bundler)) {
  console.error(`bundle-workflows: ${bundler} not found; build first (npm run build)`);
  process.exit(1);
}
const r = spawnSync(process.execPath, [bundler, ...process.argv.slice(2)], { stdio: ['ignore', 'ignore', 'inherit'] });
process.exit(r.status ?? 1);
