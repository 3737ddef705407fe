/**
 * What both modal submissions (`view_submission`) share: decode the run from `private_metadata`,
 * check that it is still open and waiting for this answer and that the submitter may give it.
 * A problem is answered in the modal itself (`response_action: 'errors'`, shown under the text
 * field) so that nothing typed is lost; Slack needs the ack within 3 s, which the checks (one
 * describe, one query bounded at 1.2 s, a role lookup) leave room for.
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { RunPhase } from '../../../workflows/types.js';
import type { SlackDeps } from '../deps.js';
import type { SlackAction } from '../roles.js';
import { decodeMetadata, INPUT_BLOCK, submittedText, type ModalMetadata } from '../views/modals.js';
import { CLICK_STATUS_TIMEOUT_MS, markDone, readMessage } from './common.js';

/** Bolt's arguments of a `view_submission` listener (what a unit test fakes). */
export type SubmitArgs = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'> & Pick<AllMiddlewareArgs, 'client'>;

/** What happened to a submission. */
export type SubmitResult = 'done' | 'invalid' | 'refused';

/** A submission that may be acted on: the run, the text (trimmed) and who sent it. */
export interface Submission {
  meta: ModalMetadata;
  text: string;
  user: string;
}

/** Checks a submission; acks with an error shown in the modal and returns undefined when it may not proceed. */
export async function checkSubmission(deps: SlackDeps, args: SubmitArgs, o: { action: SlackAction; phases: RunPhase[]; notWaiting: string; textRequired: boolean }): Promise<Submission | undefined> {
  const user = args.body.user.id;
  const meta = decodeMetadata(args.view.private_metadata);
  const text = submittedText(args.view.state.values as never);
  const fail = async (message: string): Promise<undefined> => {
    await args.ack({ response_action: 'errors', errors: { [INPUT_BLOCK]: message } });
    return undefined;
  };
  if (!meta) return fail('This form has expired; use the buttons of the message again.');
  if (o.textRequired && !text) return fail('Write what the agent should do differently.');
  const info = await deps.runs.describe(meta.workflowId);
  if (!info || info.status !== 'RUNNING') return fail('This run has already finished; nothing was sent.');
  const status = await deps.runs.status(meta.workflowId, CLICK_STATUS_TIMEOUT_MS);
  if (status?.phase === 'done') return fail('This run has already finished; nothing was sent.');
  if (status && !o.phases.includes(status.phase)) return fail(o.notWaiting);
  const decision = await deps.roles.mayAct(user, info.request?.repo ?? '*', o.action);
  if (!decision.ok) return fail(`You need the ${decision.needs} role on ${info.request?.repo ?? 'this repository'} for this.`);
  await args.ack();
  return { meta, text, user };
}

/** Replaces the buttons of the message the modal came from (read back from its thread). Never throws. */
export async function markSubmitted(deps: SlackDeps, args: SubmitArgs, s: Submission, did: string): Promise<void> {
  const m = await readMessage(args.client, s.meta.channel, s.meta.threadTs, s.meta.ts).catch((err: unknown) => {
    deps.logger.warn({ err }, 'could not read the message back after a submission');
    return undefined;
  });
  await markDone(deps, args.client, { channel: s.meta.channel, ts: s.meta.ts, ...m }, s.user, did);
}
