/**
 * The run's search attributes (Temporal visibility), typed, so that the Web UI and `temporal
 * workflow list --query` filter runs: `NsStatus = 'awaiting_human' AND NsRepo = 'calculator'`.
 * Registered on the server by worker/searchAttributes.ts (`nightshift dev` does it).
 * https://docs.temporal.io/visibility#search-attribute
 *
 * Workflow code calls {@link upsertRunAttributes} whenever one of them changes.
 */
import { defineSearchAttributeKey, type SearchAttributeType, type SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

/** The run's phase/status (e.g. `queued`, `running`, `awaiting_human`, `done`). Keyword. */
export const NsStatus = defineSearchAttributeKey('NsStatus', 'KEYWORD');
/** Repository name (a key of `repos`). Keyword. */
export const NsRepo = defineSearchAttributeKey('NsRepo', 'KEYWORD');
/** Team key. Keyword. */
export const NsTeam = defineSearchAttributeKey('NsTeam', 'KEYWORD');
/** Who asked for the run. Keyword. */
export const NsRequester = defineSearchAttributeKey('NsRequester', 'KEYWORD');
/** Outcome kind once known (`pr_opened`, `escalated`, …). Keyword. */
export const NsOutcome = defineSearchAttributeKey('NsOutcome', 'KEYWORD');
/** Spend so far, USD. Double. */
export const NsSpendUsd = defineSearchAttributeKey('NsSpendUsd', 'DOUBLE');
/** Current attempt number (1-based). Int. */
export const NsAttempt = defineSearchAttributeKey('NsAttempt', 'INT');

/** Every run attribute, for registration. */
export const RUN_SEARCH_ATTRIBUTES: readonly { name: string; type: SearchAttributeType }[] = [NsStatus, NsRepo, NsTeam, NsRequester, NsOutcome, NsSpendUsd, NsAttempt];

/** Values of the run attributes; absent = unchanged. */
export interface RunAttributes {
  status?: string;
  repo?: string;
  team?: string;
  requester?: string;
  outcome?: string;
  /** USD. */
  spendUsd?: number;
  attempt?: number;
}

/**
 * Upserts the given run attributes (workflow code only; one history event per call, so call it on
 * change, not on every tick). Keys that are absent are left as they are.
 */
export function upsertRunAttributes(a: RunAttributes): void {
  const pairs: (SearchAttributeUpdatePair | undefined)[] = [
    a.status !== undefined ? { key: NsStatus, value: a.status } : undefined,
    a.repo !== undefined ? { key: NsRepo, value: a.repo } : undefined,
    a.team !== undefined ? { key: NsTeam, value: a.team } : undefined,
    a.requester !== undefined ? { key: NsRequester, value: a.requester } : undefined,
    a.outcome !== undefined ? { key: NsOutcome, value: a.outcome } : undefined,
    a.spendUsd !== undefined ? { key: NsSpendUsd, value: a.spendUsd } : undefined,
    a.attempt !== undefined ? { key: NsAttempt, value: a.attempt } : undefined,
  ];
  const set = pairs.filter((p): p is SearchAttributeUpdatePair => p !== undefined);
  if (set.length) upsertSearchAttributes(set);
}
