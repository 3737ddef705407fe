/**
 * Signals defined outside `agentTask.ts` (additive: the workflow registers a handler when it is
 * ready; until then Temporal keeps the signal in the history and the run ignores it).
 */
import { defineSignal } from '@temporalio/workflow';
import type { DuplicateRequest } from './types.js';

/** Signal: the run was asked for again while open (the Linear label re-added); the run says where it is. */
export const duplicateRequestSignal = defineSignal<[DuplicateRequest]>('duplicateRequest');
