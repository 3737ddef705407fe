/**
 * Benchmark (figures only, no target): sizes of the sandbox images and what each toolchain adds.
 *
 * Images: the base (`nightshift/base:bookworm`, or `BENCH_BASE_IMAGE` when the universal image was
 * built on another, e.g. debian:bookworm-slim), `nightshift/universal:latest`,
 * `nightshift/claude-code:latest` and `nightshift/codex:latest`, all built by
 * sandbox-images/build.sh. Sizes are Docker's uncompressed image sizes (`docker image inspect`
 * `.Size`), in MB (10^6 bytes). What each toolchain adds comes from `docker history`: the layers an
 * image has on top of its parent (the history entries beyond the parent's count), each named by
 * the Dockerfile step that made it (sandbox-images/universal/Dockerfile: the apt step, the Node.js
 * COPY into /usr/local, the Go COPY into /usr/local/go, corepack shims, user + /opt/venv).
 *
 * Needs the Docker engine and the images (`bash sandbox-images/build.sh`); a missing image is
 * reported and skipped.
 */
import { run } from '../activities/exec.js';
import { printTable, type Row } from './lib.js';

const BASE = process.env.BENCH_BASE_IMAGE || 'nightshift/base:bookworm';
const UNIVERSAL = 'nightshift/universal:latest';
const AGENTS = ['nightshift/claude-code:latest', 'nightshift/codex:latest'] as const;

/** One `docker history` entry: the step that made the layer and its size in bytes. */
interface Layer {
  createdBy: string;
  bytes: number;
}

const MB = 1e6;

async function docker(args: string[]): Promise<string> {
  return (await run('docker', args, { code: 'DOCKER_UNAVAILABLE', timeoutMs: 60_000 })).stdout;
}

/** Image size in bytes, or undefined when the image is missing. */
async function imageBytes(image: string): Promise<number | undefined> {
  try {
    return Number((await docker(['image', 'inspect', '-f', '{{.Size}}', image])).trim());
  } catch {
    return undefined;
  }
}

/** The image's history, newest layer first (`docker history` order). */
async function history(image: string): Promise<Layer[]> {
  const out = await docker(['history', '--human=false', '--no-trunc', '--format', '{{json .}}', image]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { CreatedBy: string; Size: string })
    .map((h) => ({ createdBy: h.CreatedBy, bytes: Number(h.Size) }));
}

/** Names a layer of the universal or an agent image by the Dockerfile step that made it. */
function stepName(createdBy: string): string {
  if (/apt-get install/.test(createdBy)) return 'apt: build-essential, git, rg, jq, python3 (+dev, venv, pip), curl, …';
  if (/COPY .* in \/usr\/local\/go\/?\s*$/.test(createdBy)) return 'Go toolchain (/usr/local/go)';
  if (/COPY .* in \/usr\/local\/?\s*$/.test(createdBy)) return 'Node.js + npm + corepack (/usr/local)';
  if (/corepack enable/.test(createdBy)) return 'corepack shims (pnpm, yarn)';
  if (/python3 -m venv/.test(createdBy)) return 'user agent + /opt/venv (pip)';
  if (/COPY file:.* in \/usr\/local\/bin\/claude/.test(createdBy)) return 'claude binary';
  if (/COPY dir:.* in \/opt\/codex/.test(createdBy)) return 'codex package (/opt/codex)';
  // Anything else, shortened: no shell prefix, no content hash of a COPY.
  const short = createdBy
    .replace(/^\/bin\/sh -c (#\(nop\)\s*)?/, '')
    .replace(/\b(file|dir):[0-9a-f]{64} /, '')
    .replace(/\s+/g, ' ');
  return `other: ${short.length > 60 ? `${short.slice(0, 57)}...` : short}`;
}

/** Sizes of the layers `image` has on top of `parent`, summed per step name (non-empty only). */
async function addedLayers(image: string, parent: string): Promise<Map<string, number>> {
  const [mine, theirs] = await Promise.all([history(image), history(parent)]);
  const added = mine.slice(0, Math.max(0, mine.length - theirs.length));
  const byStep = new Map<string, number>();
  for (const l of added) {
    if (l.bytes === 0) continue;
    const k = stepName(l.createdBy);
    byStep.set(k, (byStep.get(k) ?? 0) + l.bytes);
  }
  return byStep;
}

const row = (what: string, bytes: number): Row => ({ what, samples: [bytes / MB], unit: 'MB', target: '-', digits: 1 });

async function main(): Promise<void> {
  const images = [BASE, UNIVERSAL, ...AGENTS];
  const sizes = new Map<string, number>();
  for (const img of images) {
    const b = await imageBytes(img);
    if (b === undefined) console.log(`(${img} is missing: run bash sandbox-images/build.sh)`);
    else sizes.set(img, b);
  }
  printTable(
    'Image sizes (uncompressed, docker image inspect)',
    images.filter((i) => sizes.has(i)).map((i) => row(i, sizes.get(i)!)),
  );

  const pairs: Array<[string, string]> = [[UNIVERSAL, BASE], ...AGENTS.map((a): [string, string] => [a, UNIVERSAL])];
  for (const [image, parent] of pairs) {
    if (!sizes.has(image) || !sizes.has(parent)) continue;
    const steps = await addedLayers(image, parent);
    const rows = [...steps.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => row(k, v));
    rows.push(row(`total added over ${parent}`, sizes.get(image)! - sizes.get(parent)!));
    printTable(`What ${image} adds to ${parent} (docker history)`, rows);
  }
  const labels = sizes.has(UNIVERSAL)
    ? (await docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', UNIVERSAL])).trim()
    : '{}';
  const l = JSON.parse(labels) as Record<string, string>;
  const versions = Object.entries(l)
    .filter(([k]) => k.startsWith('nightshift.toolchain.'))
    .map(([k, v]) => `${k.slice('nightshift.toolchain.'.length)} ${v}`);
  if (versions.length) console.log(`\nuniversal toolchains: ${versions.join(', ')}`);
}

await main();
