/**
 * The repo picker's `block_actions` (action id `nightshift_pick_repo`, `static_select`): acks,
 * takes the pending request named by the block's `block_id` and starts it on the picked
 * repository as `/nightshift run` would; the picker message is replaced by the outcome.
 * Only the requester may pick (the message is ephemeral, so nobody else sees it anyway).
 */
import type { AllMiddlewareArgs, App, BlockStaticSelectAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { startSlackRun, type StartResult } from '../startRun.js';
import { PICK_REPO_ACTION } from '../views/repoPicker.js';

/** Bolt's arguments of the picker's listener (what a test fakes). */
export type PickRepoArgs = Pick<SlackActionMiddlewareArgs<BlockStaticSelectAction>, 'action' | 'body' | 'ack' | 'respond'> & Pick<AllMiddlewareArgs, 'client'>;

export async function handlePickRepo(deps: SlackDeps, { action, body, ack, respond, client }: PickRepoArgs): Promise<StartResult | { result: 'expired' }> {
  await ack();
  const pending = deps.pending.take(action.block_id);
  const repo = action.selected_option?.value;
  if (!pending || pending.user !== body.user.id || !repo || !deps.config.repos[repo]) {
    await respond({ response_type: 'ephemeral', replace_original: true, text: 'This request has expired: run the command again with the repository, e.g. `/nightshift run <repo> <task>`.' });
    return { result: 'expired' };
  }
  return startSlackRun(
    {
      deps,
      client,
      user: pending.user,
      channel: pending.channel,
      reply: async (m) => {
        await respond({ response_type: 'ephemeral', replace_original: true, text: m.text });
      },
    },
    { ...pending.args, repo },
    { kind: 'command' },
  );
}

/** Registers the picker's listener. */
export function registerActions(app: App, deps: SlackDeps): void {
  app.action<BlockStaticSelectAction>({ type: 'block_actions', action_id: PICK_REPO_ACTION }, async (args) => {
    await handlePickRepo(deps, args);
  });
}
