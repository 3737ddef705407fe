/**
 * What the Linear front end needs from Temporal, as a small port ({@link LinearRunsPort}) so that
 * a unit test can hand the handler an in-memory fake and an integration test the real dev server
 * ({@link temporalLinearRuns}); and the run sequences built on it.
 *
 * A sequence is the runs of one origin: `base`, `base-2`, `base-3`, … (label runs of an issue:
 * `linear-<issueId>…`; runs of an agent session: `linear-session-<sessionId>…`). A later run
 * starts only after every earlier one ended, so the sequence is found by describing ids in order
 * until one is unknown (strongly consistent, unlike a visibility query), at most
 * {@link MAX_SEQUENCE} ids.
 */
import type { Client } from '@temporalio/client';
import { sequencedWorkflowId, type TaskRequest } from '../../workflows/types.js';
import {
  describeRun,
  runInput,
  signalRun,
  signalWithStartRun,
  startRun,
  type RunDescription,
  type RunMemo,
  type RunSignal,
} from '../../worker/runs.js';

export type { RunDescription, RunMemo, RunSignal } from '../../worker/runs.js';

/** Temporal operations of the Linear front end. Each rejects on connection / server failures. */
export interface LinearRunsPort {
  /** Starts once; `already_started` when any run (open or closed) has the id. */
  start(workflowId: string, req: TaskRequest, memo: RunMemo): Promise<'started' | 'already_started'>;
  /** signalWithStart; `closed` when a closed run holds the id (nothing done). */
  signalWithStart(workflowId: string, req: TaskRequest, sig: RunSignal, memo: RunMemo): Promise<'delivered' | 'closed'>;
  /** Signals an open run; `not_running` when none is open with the id. */
  signal(workflowId: string, sig: RunSignal): Promise<'delivered' | 'not_running'>;
  /** The run with the id, or undefined when none ever had it. */
  describe(workflowId: string): Promise<RunDescription | undefined>;
  /** The agent session id in the run's input (for session runs started under the old id scheme). */
  sessionOf(workflowId: string): Promise<string | undefined>;
}

/** The real port on a Temporal client. */
export function temporalLinearRuns(client: Client, taskQueue: string): LinearRunsPort {
  return {
    start: (id, req, memo) => startRun(client, taskQueue, id, req, memo),
    signalWithStart: (id, req, sig, memo) => signalWithStartRun(client, taskQueue, id, req, sig, memo),
    signal: (id, sig) => signalRun(client, id, sig),
    describe: (id) => describeRun(client, id),
    async sessionOf(id) {
      const req = await runInput(client, id);
      return req?.source.kind === 'linear' ? req.source.agentSessionId : undefined;
    },
  };
}

/** Most runs a sequence may hold (describes per lookup, each a few ms). */
export const MAX_SEQUENCE = 100;

/** A sequence had {@link MAX_SEQUENCE} runs: nothing more starts for that origin. */
export class LinearSequenceFullError extends Error {
  readonly code = 'LINEAR_SEQUENCE_FULL';
  constructor(readonly base: string) {
    super(`${base} already has ${MAX_SEQUENCE} runs`);
    this.name = 'LinearSequenceFullError';
  }
}

/** The runs of a sequence, oldest first, and the number the next one would get. */
export interface RunSequence {
  runs: RunDescription[];
  /** 1-based number of the next run (`runs.length + 1`). */
  next: number;
  /** The open run, if any (the last one: a run starts only after the earlier ones ended). */
  open?: RunDescription;
}

/**
 * Describes `base`, `base-2`, … until an unknown id.
 * @throws LinearSequenceFullError past {@link MAX_SEQUENCE} runs; the port's errors.
 */
export async function findSequence(port: LinearRunsPort, base: string): Promise<RunSequence> {
  const runs: RunDescription[] = [];
  for (let n = 1; n <= MAX_SEQUENCE; n++) {
    const d = await port.describe(sequencedWorkflowId(base, n));
    if (!d) {
      const open = runs.findLast((r) => r.running);
      return { runs, next: n, ...(open ? { open } : {}) };
    }
    runs.push(d);
  }
  throw new LinearSequenceFullError(base);
}

/** True when a run of the sequence was started by this delivery (a redelivery). */
export function startedBy(seq: RunSequence, eventKey: string | undefined): RunDescription | undefined {
  return eventKey ? seq.runs.find((r) => r.memo.linearEvent === eventKey) : undefined;
}
