/** Workflows of the time-skipping tests. */
import { sleep } from '@temporalio/workflow';

/** Sleeps `ms` (a durable timer) and returns the workflow clock's elapsed time, ms. */
export async function sleeper(ms: number): Promise<number> {
  const t0 = Date.now();
  await sleep(ms);
  return Date.now() - t0;
}
