/**
 * The workflow bundle, built once and cached on disk instead of bundled with webpack inside every
 * worker process (webpack and its module graph stay in the worker's heap after bundling: ~150 MB of
 * RSS for nothing).
 *
 * - {@link bundleWorkflowsToFile} runs `bundleWorkflowCode` and writes the code to `outPath` and a
 *   manifest to `outPath + '.json'`: the entry and every file webpack read (path → SHA-256 of its
 *   content; not mtimes, which every `tsc` build rewrites), so that a change to any workflow
 *   source, or to the SDK, makes the bundle stale.
 * - {@link ensureWorkflowBundle} returns the cached bundle's path when it is fresh, or builds it in
 *   a child Node process (so webpack's memory goes away with that process) and returns it.
 * - `node dist/worker/workflowBundle.js [entry] [outPath]` (also `scripts/bundle-workflows.mjs`)
 *   builds it ahead of time, e.g. in a container image.
 *
 * The worker loads it as `workflowBundle: { codePath }`:
 * https://typescript.temporal.io/api/interfaces/worker.WorkerOptions#workflowbundle
 * https://typescript.temporal.io/api/namespaces/worker#bundleworkflowcode
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Default entry point: the compiled workflows of the product. */
export const DEFAULT_WORKFLOWS_ENTRY = fileURLToPath(new URL('../workflows/index.js', import.meta.url));
/** Default bundle path (`dist/workflow-bundle.js`), next to the compiled workflows. */
export const DEFAULT_BUNDLE_PATH = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/** Manifest written next to a bundle (`<outPath>.json`). */
export interface BundleManifest {
  /** Absolute path of the workflows entry the bundle was built from. */
  entry: string;
  /** Every file webpack read: absolute path → SHA-256 (hex) of its content. */
  inputs: Record<string, string>;
  /** When it was built, epoch ms. */
  builtAt: number;
}

/** Why a bundle could not be built ({@link WorkflowBundleError.code}). */
export type WorkflowBundleErrorCode = 'BUNDLE_FAILED' | 'BUNDLE_CHILD_FAILED';

/** A bundle could not be built; `details` says where. */
export class WorkflowBundleError extends Error {
  constructor(
    readonly code: WorkflowBundleErrorCode,
    message: string,
    readonly details: { entry: string; outPath: string; exitCode?: number | null; stderr?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WorkflowBundleError';
  }
}

/** SHA-256 of a regular file's content; undefined for a directory or a missing file. */
function stamp(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return undefined;
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Whether `outPath` holds a bundle of `entry` whose inputs are all unchanged (same content).
 * Never throws (a missing or unreadable manifest is "not fresh").
 */
export function isBundleFresh(entry: string, outPath: string): boolean {
  try {
    if (!existsSync(outPath)) return false;
    const m = JSON.parse(readFileSync(`${outPath}.json`, 'utf8')) as BundleManifest;
    if (m.entry !== resolve(entry) || Object.keys(m.inputs).length === 0) return false;
    return Object.entries(m.inputs).every(([p, hash]) => stamp(p) === hash);
  } catch {
    return false;
  }
}

/**
 * Bundles `entry` with the SDK's bundler (in this process) and writes `outPath` and its manifest
 * atomically (temporary file + rename).
 * @throws WorkflowBundleError (BUNDLE_FAILED) when webpack fails or the files cannot be written
 */
export async function bundleWorkflowsToFile(entry: string, outPath: string): Promise<BundleManifest> {
  const abs = resolve(entry);
  const files = new Set<string>();
  try {
    const { bundleWorkflowCode } = await import('@temporalio/worker');
    const { code } = await bundleWorkflowCode({
      workflowsPath: abs,
      webpackConfigHook: (config) => ({
        ...config,
        plugins: [
          ...(config.plugins ?? []),
          {
            apply(compiler) {
              compiler.hooks.afterCompile.tap('nightshift-bundle-inputs', (compilation) => {
                for (const f of compilation.fileDependencies) if (f.startsWith('/')) files.add(f);
              });
            },
          },
        ],
      }),
    });
    const inputs: BundleManifest['inputs'] = {};
    // Files only (webpack also lists the directories it searched).
    for (const f of [abs, ...files]) {
      const s = stamp(f);
      if (s) inputs[f] = s;
    }
    const manifest: BundleManifest = { entry: abs, inputs, builtAt: Date.now() };
    mkdirSync(dirname(outPath), { recursive: true });
    const tmp = `${outPath}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    writeFileSync(`${tmp}.json`, JSON.stringify(manifest));
    renameSync(tmp, outPath);
    renameSync(`${tmp}.json`, `${outPath}.json`);
    return manifest;
  } catch (cause) {
    throw new WorkflowBundleError('BUNDLE_FAILED', `cannot bundle the workflows of ${abs}`, { entry: abs, outPath }, { cause });
  }
}

/** Options of {@link ensureWorkflowBundle}. */
export interface EnsureBundleOptions {
  /** Workflows entry (compiled .js); default {@link DEFAULT_WORKFLOWS_ENTRY}. */
  entry?: string;
  /** Where the bundle is cached; default {@link DEFAULT_BUNDLE_PATH}. */
  outPath?: string;
  /** Gives up on the child bundler after this long, ms (default 300 000). */
  timeoutMs?: number;
}

/**
 * The path of a fresh bundle of `entry`: the cached one, or a new one built by a child process.
 * @throws WorkflowBundleError (BUNDLE_CHILD_FAILED) when the child fails or times out
 */
export async function ensureWorkflowBundle(opts: EnsureBundleOptions = {}): Promise<{ codePath: string; built: boolean }> {
  const entry = resolve(opts.entry ?? DEFAULT_WORKFLOWS_ENTRY);
  const outPath = resolve(opts.outPath ?? DEFAULT_BUNDLE_PATH);
  if (isBundleFresh(entry, outPath)) return { codePath: outPath, built: false };
  try {
    await bundleInChild(entry, outPath, opts.timeoutMs ?? 300_000);
  } catch (err) {
    // An input changed while it was bundled (a build running meanwhile): once more.
    if (!(err instanceof WorkflowBundleError && err.details.exitCode === 0)) throw err;
    await bundleInChild(entry, outPath, opts.timeoutMs ?? 300_000);
  }
  return { codePath: outPath, built: true };
}

function bundleInChild(entry: string, outPath: string, timeoutMs: number): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  return new Promise<void>((ok, fail) => {
    const child = spawn(process.execPath, [self, entry, outPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (cause) => {
      clearTimeout(timer);
      fail(new WorkflowBundleError('BUNDLE_CHILD_FAILED', 'cannot start the workflow bundler', { entry, outPath }, { cause }));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      if (exitCode === 0 && isBundleFresh(entry, outPath)) ok();
      else if (exitCode === 0) fail(new WorkflowBundleError('BUNDLE_CHILD_FAILED', 'the workflow sources changed while they were bundled', { entry, outPath, exitCode }));
      else fail(new WorkflowBundleError('BUNDLE_CHILD_FAILED', `the workflow bundler exited with ${exitCode}`, { entry, outPath, exitCode, stderr }));
    });
  });
}

// `node dist/worker/workflowBundle.js [entry] [outPath]`: build the bundle now.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [entry = DEFAULT_WORKFLOWS_ENTRY, outPath = DEFAULT_BUNDLE_PATH] = process.argv.slice(2);
  bundleWorkflowsToFile(entry, outPath).then(
    (m) => console.log(`workflow bundle: ${outPath} (${Object.keys(m.inputs).length} inputs)`),
    (err: unknown) => {
      console.error(err instanceof WorkflowBundleError ? `${err.message}: ${String((err.cause as Error | undefined)?.stack ?? err.cause)}` : err);
      process.exit(1);
    },
  );
}
