/**
 * Sees the files a shell command changed (`sed -i`, `perl -pi`, `> f`, `tee`, `mv`, `patch`,
 * `git apply`, formatters, codemods) by looking at the work tree itself instead of guessing from
 * the command text: a walk of the workspace recording each entry's mtime and size (lstat; symbolic
 * links are recorded as links and never followed, so the walk never leaves the workspace).
 *
 * A file whose mtime or size moved is compared by content (SHA-1) when its previous content hash
 * is known, so that a tool rewriting identical bytes (a compiler cache, a build re-emitting the
 * same output) is not a change. Directories of dependencies, caches and build output are skipped
 * ({@link SKIPPED_DIRS}), as are a few volatile file kinds ({@link SKIPPED_FILE}): a test run
 * that rewrites them must not count as progress, or a real loop would never be caught.
 *
 * Cost is bounded: the walk stops at `maxEntries` entries; past it the watcher disables itself
 * (reports no change, `disabled` says why) rather than slow every call down. Measured in
 * bench/workspaceWatch.bench.ts.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, type Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Directory names never walked: VCS data, dependencies, caches, build output. */
export const SKIPPED_DIRS = new Set([
  '.git', '.hg', '.svn', 'node_modules', '__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.tox', '.nox', '.venv', 'venv',
  '.cache', '.gradle', '.next', '.nuxt', '.turbo', '.parcel-cache', 'coverage', '.nyc_output', 'dist', 'build', 'target', '.eggs',
]);
/** Directories read at the same time. */
const DIR_CONCURRENCY = 16;
/** File names never recorded: compiled Python, logs, OS litter, egg-info metadata. */
const SKIPPED_FILE = /\.(?:pyc|pyo|log)$|^\.DS_Store$|\.egg-info$/;

/** Options of a {@link WorkspaceWatcher}. */
export interface WorkspaceWatcherOptions {
  /** Most entries (files, links, directories) walked; past it the watcher disables itself. Default 50 000. */
  maxEntries?: number;
  /** Largest file whose content is hashed, bytes; larger files are compared by mtime and size only. Default 1 MiB. */
  hashMaxBytes?: number;
}

interface Entry {
  mtimeMs: number;
  size: number;
  /** SHA-1 of the content, once known. */
  hash?: string;
}

/** Reports which files of a directory changed between two calls of {@link WorkspaceWatcher.changes}. */
export class WorkspaceWatcher {
  private readonly maxEntries: number;
  private readonly hashMaxBytes: number;
  private previous: Map<string, Entry> | undefined;
  private why: string | undefined;

  /** @param root the workspace directory (absolute) */
  constructor(
    private readonly root: string,
    options: WorkspaceWatcherOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 50_000;
    this.hashMaxBytes = options.hashMaxBytes ?? 1024 * 1024;
  }

  /** Why the watcher stopped watching (too many entries, the root unreadable), or undefined while it watches. */
  get disabled(): string | undefined {
    return this.why;
  }

  /**
   * Walks the workspace and returns the paths (relative, `/`-separated, sorted) created, deleted or
   * changed since the previous call. The first call records the baseline and returns []. Never
   * throws: unreadable entries are skipped; an unreadable root or too many entries disable the
   * watcher (then always []).
   */
  async changes(): Promise<string[]> {
    if (this.why) return [];
    const current = await this.walk();
    if (!current) return [];
    const before = this.previous;
    this.previous = current;
    if (!before) return [];
    const changed: string[] = [];
    for (const [path, now] of current) {
      const old = before.get(path);
      if (!old) {
        changed.push(path);
        continue;
      }
      now.hash = old.hash;
      if (old.mtimeMs === now.mtimeMs && old.size === now.size) continue;
      const hash = await this.hash(path, now.size);
      const same = hash !== undefined && old.hash !== undefined && hash === old.hash;
      now.hash = hash;
      if (!same) changed.push(path);
    }
    for (const path of before.keys()) if (!current.has(path)) changed.push(path);
    return changed.sort();
  }

  /**
   * SHA-1 of a regular file's bytes. Never follows a link and never opens anything but a regular
   * file (a FIFO or a device the agent planted would block or flood the host): the file is opened
   * with O_NOFOLLOW | O_NONBLOCK and checked on the handle before it is read; a link hashes its target text.
   */
  private async hash(path: string, size: number): Promise<string | undefined> {
    if (size > this.hashMaxBytes) return undefined;
    const full = join(this.root, path);
    try {
      const st = await lstat(full);
      if (st.isSymbolicLink()) return createHash('sha1').update(`link:${await readlink(full)}`).digest('hex');
      if (!st.isFile()) return undefined;
      const handle = await open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
      try {
        const hst = await handle.stat();
        if (!hst.isFile() || hst.size > this.hashMaxBytes) return undefined;
        return createHash('sha1').update(await handle.readFile()).digest('hex');
      } finally {
        await handle.close();
      }
    } catch {
      // Gone, unreadable or replaced while we looked: reported by size / mtime alone.
      return undefined;
    }
  }

  /** mtime and size of every recorded entry, by relative path; undefined when the watcher gave up. */
  private async walk(): Promise<Map<string, Entry> | undefined> {
    const out = new Map<string, Entry>();
    let level = [''];
    let entries = 0;
    // Breadth first, the directories of one level read concurrently (a bounded number at a time).
    while (level.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += DIR_CONCURRENCY) {
        const listed = await Promise.all(level.slice(i, i + DIR_CONCURRENCY).map((rel) => this.readDir(rel, out)));
        for (const [j, sub] of listed.entries()) {
          if (sub === undefined) {
            if (level[i + j] === '') return undefined;
            continue;
          }
          entries += sub.count;
          if (entries > this.maxEntries) {
            this.why = `more than ${this.maxEntries} entries in the workspace`;
            return undefined;
          }
          next.push(...sub.dirs);
        }
      }
      level = next;
    }
    return out;
  }

  /** Records the files of one directory in `out`; returns its subdirectories to walk and its entry count, or undefined when unreadable. */
  private async readDir(rel: string, out: Map<string, Entry>): Promise<{ dirs: string[]; count: number } | undefined> {
    let names: Dirent[];
    try {
      names = await readdir(join(this.root, rel), { withFileTypes: true });
    } catch (err) {
      if (rel === '') this.why = `workspace unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`;
      return undefined;
    }
    if (names.length > this.maxEntries) return { dirs: [], count: names.length };
    const dirs: string[] = [];
    const files: Dirent[] = [];
    for (const d of names) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      // A link to a directory is a link (isDirectory() is false for it): never followed.
      if (d.isDirectory()) {
        if (!SKIPPED_DIRS.has(d.name) && !d.name.endsWith('.egg-info')) dirs.push(path);
      } else if ((d.isFile() || d.isSymbolicLink()) && !SKIPPED_FILE.test(d.name)) files.push(d);
    }
    const stats = await Promise.all(files.map((d) => lstat(join(this.root, rel, d.name)).catch(() => undefined)));
    files.forEach((d, i) => {
      const s = stats[i];
      if (s) out.set(rel ? `${rel}/${d.name}` : d.name, { mtimeMs: s.mtimeMs, size: s.size });
    });
    return { dirs, count: names.length };
  }
}
