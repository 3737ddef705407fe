/**
 * Workspace affinity, the worker side (workflows/run/host.ts is the run's side): this worker's
 * host id, its host task queue, and the `claimHost` activity that hands a run to this host.
 */
import { hostname } from 'node:os';
import type { HostActivities, HostClaim } from '../workflows/activityTypes.js';
import type { Config } from '../worker/config.js';

/** The host task queue of `hostId` on the shared queue `taskQueue`: `<taskQueue>@<hostId>`. */
export function hostTaskQueue(taskQueue: string, hostId: string): string {
  return `${taskQueue}@${hostId}`;
}

/**
 * This worker's host claim: config `worker.hostId` (default: the host name, with characters a
 * task queue name should not hold replaced by `-`), its host queue, and `worker.hostGoneTimeoutMs`.
 */
export function hostClaimOf(config: Pick<Config, 'worker' | 'temporal'>): HostClaim {
  const hostId = config.worker.hostId ?? (hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || 'localhost');
  return { hostId, taskQueue: hostTaskQueue(config.temporal.taskQueue, hostId), hostGoneTimeoutMs: config.worker.hostGoneTimeoutMs };
}

/** `claimHost` of a worker whose host is `claim` (served on the shared task queue). */
export function createHostActivities(claim: HostClaim): HostActivities {
  return {
    claimHost: async () => ({ ...claim }),
  };
}
