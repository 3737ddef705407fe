/** Locating the repository root and the devstack's fixtures from compiled code (dist/...). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** Absolute path of a recorded payload the local stand-ins answer with (devstack/fixtures). */
export function devstackFixture(...parts: string[]): string {
  return join(repoRoot(), 'devstack', 'fixtures', ...parts);
}

/**
 * Linear's published GraphQL schema, kept next to the repository (`../shared/reference/linear/schema.graphql`
 * from the repo root) and read at run time by the Linear stand-in; never copied into the repo.
 * Returns the first candidate that exists (or the first candidate: the stand-in then says it
 * validates nothing).
 */
export function linearSchemaPath(): string {
  // $NIGHTSHIFT_LINEAR_SCHEMA, then next to the repository, then the workplace's shared folder
  // (a clone elsewhere, e.g. CI's, still validates).
  const candidates = [
    process.env.NIGHTSHIFT_LINEAR_SCHEMA,
    join(repoRoot(), '..', 'shared', 'reference', 'linear', 'schema.graphql'),
    '/work/shared/reference/linear/schema.graphql',
  ].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}
