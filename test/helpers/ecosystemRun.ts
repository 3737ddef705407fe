/**
 * Helpers of the end-to-end environment tests (test/integration/ecosystems.test.ts): start a run
 * from the CLI source and wait for its outcome with a limit, read an activity's result from the
 * workflow history, count containers the Docker engine created for a run, list a branch's files,
 * and remove the environment images a test made.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { Client } from '@temporalio/client';
import { run } from '../../activities/exec.js';
import { PURPOSE_LABEL, RUN_LABEL } from '../../activities/sandbox.js';
import { ENV_LABELS } from '../../activities/environment/cache.js';
import { runResult, runStatus, startRun } from '../../worker/runs.js';
import type { RunOutcome, RunStatus } from '../../workflows/types.js';

/** Starts a CLI run of `repo` on `taskQueue` and returns its workflow id. */
export async function startCliRun(client: Client, taskQueue: string, repo: string, title: string, task: string): Promise<string> {
  const workflowId = `cli-${randomUUID()}`;
  await startRun(client, taskQueue, workflowId, { source: { kind: 'cli' }, requester: 'test', repo, title, task });
  return workflowId;
}

/**
 * The run's outcome. Rejects, naming its phase, last events and last report, when it does not end
 * within `ms`, or as soon as it waits for a human (an escalation or an approval request: a run
 * these tests expect to end by itself would otherwise wait for days).
 */
export async function outcomeWithin(client: Client, workflowId: string, ms: number): Promise<RunOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const describe = (s: RunStatus | undefined) => `phase ${s?.phase}, events ${JSON.stringify(s?.lastEvents)}\nlast report:\n${s?.lastReport ?? '(none)'}`;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void runStatus(client, workflowId)
        .catch(() => undefined)
        .then((s) => reject(new Error(`run ${workflowId} did not end within ${ms / 1000} s: ${describe(s)}`)));
    }, ms);
  });
  const waitingForHuman = (async (): Promise<never> => {
    for (;;) {
      await sleep(2000);
      if (stopped) return new Promise<never>(() => undefined);
      const s = await runStatus(client, workflowId).catch(() => undefined);
      if (s && (s.phase === 'awaiting_human' || s.phase === 'awaiting_approval')) throw new Error(`run ${workflowId} waits for a human: ${describe(s)}`);
    }
  })();
  try {
    return await Promise.race([runResult(client, workflowId), timeout, waitingForHuman]);
  } finally {
    stopped = true;
    clearTimeout(timer);
  }
}

/** The result of the first completed activity of type `name` in the run's history, or undefined. */
export async function activityResult<T>(client: Client, workflowId: string, name: string): Promise<T | undefined> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const converter = client.options.loadedDataConverter.payloadConverter;
  const scheduled = new Map<string, string>();
  for (const e of history.events ?? []) {
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) scheduled.set(String(e.eventId), sched.activityType?.name ?? '');
    const done = e.activityTaskCompletedEventAttributes;
    const payload = done?.result?.payloads?.[0];
    if (done && payload && scheduled.get(String(done.scheduledEventId)) === name) return converter.fromPayload<T>(payload);
  }
  return undefined;
}

/**
 * Containers of `purpose` (`setup`, `agent`, `tests`, `seed`) the engine created for the run
 * `workflowId` since `since` (Unix seconds), from its event log (`docker events`: the event's
 * actor attributes carry the container's labels): their ids, images, and when each was created (epoch ms).
 */
export async function containerCreations(docker: Docker, since: number, purpose: string, workflowId: string): Promise<Array<{ id: string; atMs: number; image: string }>> {
  const stream = (await docker.getEvents({
    since,
    until: Math.ceil(Date.now() / 1000),
    filters: { type: ['container'], event: ['create'], label: [`${PURPOSE_LABEL}=${purpose}`] },
  })) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id?: string; timeNano?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } })
    .filter((e) => e.Actor?.Attributes?.[RUN_LABEL] === workflowId)
    .map((e) => ({ id: e.Actor?.ID ?? e.id ?? '', atMs: Math.round((e.timeNano ?? 0) / 1e6), image: e.Actor?.Attributes?.image ?? '' }));
}

/** How many containers of `purpose` the engine created for the run since `since` (Unix seconds); see {@link containerCreations}. */
export async function containersCreated(docker: Docker, since: number, purpose: string, workflowId: string): Promise<number> {
  return (await containerCreations(docker, since, purpose, workflowId)).length;
}

/** Every file path of `branch` in the git repository `gitDir`, sorted. */
export async function branchFiles(gitDir: string, branch: string): Promise<string[]> {
  const { stdout } = await run('git', ['-C', gitDir, 'ls-tree', '-r', '--name-only', branch]);
  return stdout.split('\n').filter(Boolean).sort();
}

/** A file of `branch` in the git repository `gitDir`. */
export async function fileAt(gitDir: string, branch: string, path: string): Promise<string> {
  return (await run('git', ['-C', gitDir, 'show', `${branch}:${path}`])).stdout;
}

/**
 * Removes every image labelled as an environment (or environment base) of one of `repos`; children
 * first (a few passes: an image with dependent children cannot go before them). Never throws.
 */
export async function removeEnvironmentImages(docker: Docker, repos: Iterable<string>): Promise<void> {
  for (const repo of repos) {
    for (let pass = 0; pass < 3; pass++) {
      const images = await docker.listImages({ filters: { label: [`${ENV_LABELS.repo}=${repo}`] } }).catch(() => []);
      if (images.length === 0) break;
      for (const img of images) {
        for (const tag of img.RepoTags ?? []) await docker.getImage(tag).remove().catch(() => undefined);
        await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
      }
    }
  }
}
