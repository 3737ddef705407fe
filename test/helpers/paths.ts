/** Locating the repository root and its fixtures from compiled tests (dist/test/...). */
import { join } from 'node:path';
import { repoRoot } from '../../devstack/paths.js';

export { repoRoot };

/** Absolute path of a file under test/fixtures. */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot(), 'test', 'fixtures', ...parts);
}
