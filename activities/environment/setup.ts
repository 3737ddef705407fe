/**
 * Environment setup: the repository's setup commands, run once in their own container on the
 * setup network (package registries reachable, no host port, no secret, no agent), then committed
 * to the environment image.
 *
 * The container runs a script Nightshift writes (`run.sh`, mounted read-only with the commands, the
 * base commit's files and the host's trust settings): it copies the files to /workspace, runs each
 * command, and moves what the commands created in /workspace (e.g. `node_modules`, `.venv`) to
 * /opt/nightshift/seed, from where every workspace and test export of the environment is seeded.
 * Everything else setup installed outside /workspace (a venv, a module cache) is in the image.
 *
 * What the container prints is data: the marker lines (`::nightshift::…`) only pick which of OUR
 * commands failed and which seed paths to exclude from staging, each validated.
 */
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxManager } from '../sandbox.js';
import { NightshiftError } from '../errors.js';
import { CONTAINER_CA_PATH, proxyEnv, trustEnv, type HostTrust } from './hostTrust.js';

/** Where the setup files are mounted in the setup container. */
const SETUP_DIR = '/nightshift-setup';
/** Where setup results made in /workspace are kept in the image. */
export const SEED_DIR = '/opt/nightshift/seed';
/** Most seed paths accepted (top-level new paths in /workspace). */
const MAX_SEED_PATHS = 200;
const TAIL_LINES = 60;

/** A single-quoted POSIX shell word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The script the setup container runs. Exit codes: 90 copy, 91 a command, 92 seeding. */
export function setupScript(steps: number): string {
  const lines = [
    '#!/bin/sh',
    '# Written by Nightshift: environment setup (https://github.com/ — see activities/environment/setup.ts).',
    'set -u',
    `if [ -f ${SETUP_DIR}/host.env ]; then . ${SETUP_DIR}/host.env; fi`,
    `cp -a ${SETUP_DIR}/src/. /workspace/ || { echo '::nightshift::failed copy'; exit 90; }`,
    'cd /workspace || exit 90',
    "find . -mindepth 1 -print | LC_ALL=C sort > /tmp/.nightshift-before",
  ];
  for (let i = 1; i <= steps; i++) {
    lines.push(
      `echo '::nightshift::step ${i}'`,
      `(cd /workspace && sh ${SETUP_DIR}/step-${i}.sh) || { code=$?; echo "::nightshift::failed ${i} $code"; exit 91; }`,
    );
  }
  lines.push(
    'cd /workspace || exit 92',
    "find . -mindepth 1 -print | LC_ALL=C sort > /tmp/.nightshift-after",
    // New paths only, each covered by its first new ancestor.
    "LC_ALL=C comm -13 /tmp/.nightshift-before /tmp/.nightshift-after | awk 'top != \"\" && index($0, top \"/\") == 1 { next } { print; top = $0 }' > /tmp/.nightshift-seed",
    `mkdir -p ${SEED_DIR} || exit 92`,
    'while IFS= read -r p; do',
    `  mkdir -p "${SEED_DIR}/$(dirname "$p")" && mv "$p" "${SEED_DIR}/$p" || { echo '::nightshift::failed seed'; exit 92; }`,
    '  echo "::nightshift::seed $p"',
    'done < /tmp/.nightshift-seed',
    // The base commit's files are not part of the image (every run mounts its own workspace).
    'cd / && find /workspace -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null',
    'rm -f /tmp/.nightshift-before /tmp/.nightshift-after /tmp/.nightshift-seed',
    "echo '::nightshift::done'",
  );
  return `${lines.join('\n')}\n`;
}

/** A seed path printed by the setup container, validated: relative, inside /workspace, one line. */
export function parseSeedLine(line: string): string | undefined {
  const m = /^::nightshift::seed \.\/(.+)$/.exec(line);
  if (!m?.[1]) return undefined;
  return isSafeSeedPath(m[1]) ? m[1] : undefined;
}

/** A seed path is relative, stays inside /workspace, and is one line of printable characters. */
export function isSafeSeedPath(p: string): boolean {
  return !p.startsWith('/') && !p.split('/').some((seg) => seg === '..' || seg === '' || seg === '.') && ![...p].some((c) => c.charCodeAt(0) < 0x20);
}

/** Result of a setup run. */
export interface SetupResult {
  /** Stopped container holding the setup's result (commit it, then remove it). */
  containerId: string;
  remove(): Promise<void>;
  /** Paths setup created in /workspace, now under {@link SEED_DIR}. */
  seed: string[];
  durationMs: number;
}

/** Input of {@link runSetup}. */
export interface SetupInput {
  /** The run (or `env-<repo>` for the CLI): the container's run label. */
  workflowId: string;
  /** Image to run setup in (base + agent layer). */
  image: string;
  /** Host directory holding the base commit's files (an export; read-only in the container). */
  source: string;
  commands: string[];
  /** Declared (non-secret) variables, `KEY=value`: they become part of the image. */
  env: string[];
  trust: HostTrust;
  timeoutMs: number;
  /** Labels of the setup container (e.g. the environment key). */
  labels: Record<string, string>;
  /** Each output line (progress on a terminal, heartbeats). */
  onLine?: (line: string) => void;
}

/**
 * Runs the setup commands. The proxy and the CA bundle reach the commands through a mounted file
 * (`host.env`), not the container's configuration, so they are not committed into the image.
 * @throws NightshiftError ENV_SETUP_FAILED (not retryable) naming the failing command, its exit
 *   code and output tail, or the timeout; SANDBOX_* when the container cannot run
 */
export async function runSetup(sandbox: SandboxManager, input: SetupInput): Promise<SetupResult> {
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-setup-'));
  const tail: string[] = [];
  const seed: string[] = [];
  let failed: { step: number; exitCode: number } | { stage: 'copy' | 'seed' } | undefined;
  let step = 0;
  const started = Date.now();
  let keep = false;
  let container: Awaited<ReturnType<SandboxManager['start']>> | undefined;
  try {
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'run.sh'), setupScript(input.commands.length), { mode: 0o644 });
    for (const [i, cmd] of input.commands.entries()) await writeFile(join(dir, `step-${i + 1}.sh`), `${cmd}\n`, { mode: 0o644 });
    const hostEnv = [...(input.trust.caBundle ? trustEnv() : []), ...proxyEnv(input.trust.proxy)];
    // Readable by the sandbox user only (it may carry proxy credentials).
    const hostEnvFile = join(dir, 'host.env');
    await writeFile(hostEnvFile, hostEnv.map((e) => `export ${e.slice(0, e.indexOf('='))}=${shellQuote(e.slice(e.indexOf('=') + 1))}`).join('\n') + '\n', { mode: 0o400 });
    const [uid, gid] = sandbox.settings.user.split(':').map(Number);
    if (process.getuid?.() === 0 && Number.isInteger(uid)) await chown(hostEnvFile, uid ?? 0, Number.isInteger(gid) ? (gid ?? 0) : (uid ?? 0));
    await mkdir(join(dir, 'src'), { recursive: true });
    container = await sandbox.start({
      workflowId: input.workflowId,
      purpose: 'setup',
      image: input.image,
      cmd: ['sh', `${SETUP_DIR}/run.sh`],
      env: input.env,
      // /workspace is the image's own (committed with the seed); the files come read-only.
      workspace: undefined,
      readOnlyMounts: [
        { host: dir, container: SETUP_DIR },
        { host: input.source, container: `${SETUP_DIR}/src` },
        ...(input.trust.caBundle ? [{ host: input.trust.caBundle, container: CONTAINER_CA_PATH }] : []),
      ],
      network: 'setup',
      labels: input.labels,
      onLine: (_stream, line) => {
        const stepMark = /^::nightshift::step (\d+)$/.exec(line);
        const failMark = /^::nightshift::failed (\d+) (\d+)$/.exec(line);
        const stageMark = /^::nightshift::failed (copy|seed)$/.exec(line);
        if (stepMark) step = Number(stepMark[1]);
        else if (failMark) failed = { step: Number(failMark[1]), exitCode: Number(failMark[2]) };
        else if (stageMark) failed = { stage: stageMark[1] as 'copy' | 'seed' };
        else if (line.startsWith('::nightshift::seed ')) {
          const p = parseSeedLine(line);
          if (p && seed.length < MAX_SEED_PATHS) seed.push(p);
          return;
        } else if (line !== '::nightshift::done') {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
        }
        input.onLine?.(line);
      },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void container?.kill();
    }, input.timeoutMs);
    let exitCode: number;
    try {
      exitCode = await container.exited;
    } finally {
      clearTimeout(timer);
    }
    const outputTail = tail.join('\n').slice(-6000);
    if (timedOut || exitCode !== 0) {
      const n = failed && 'step' in failed ? failed.step : timedOut ? step : undefined;
      const command = n && n >= 1 && n <= input.commands.length ? input.commands[n - 1] : undefined;
      const what = timedOut
        ? `setup timed out after ${Math.round(input.timeoutMs / 1000)} s${command ? ` during \`${command}\`` : ''}`
        : command
          ? `setup command \`${command}\` failed (exit code ${failed && 'exitCode' in failed ? failed.exitCode : exitCode})`
          : `setup failed (${failed && 'stage' in failed ? `${failed.stage} stage` : `exit code ${exitCode}`})`;
      throw new NightshiftError('ENV_SETUP_FAILED', what, {
        retryable: false,
        details: { command, step: n, exitCode: failed && 'exitCode' in failed ? failed.exitCode : exitCode, timedOut, outputTail },
      });
    }
    keep = true;
    const c = container;
    return { containerId: c.id, remove: () => c.remove(), seed, durationMs: Date.now() - started };
  } finally {
    if (!keep) await container?.remove();
    await rm(dir, { recursive: true, force: true });
  }
}
