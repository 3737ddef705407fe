/**
 * Registers the run buttons (`block_actions` by action id), the modal submissions
 * (`view_submission` by callback id) and the thread replies. Each listener calls its handler,
 * which acks first (Slack's 3 s) and logs its result.
 */
import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { registerThreadReplies } from '../events/threadReply.js';
import { MODALS } from '../views/modals.js';
import { ACTIONS } from '../views/runButtons.js';
import { handleApproveClick } from './approve.js';
import { handleCancelClick } from './cancel.js';
import type { ButtonArgs, ClickResult } from './common.js';
import { handleGuidanceClick } from './guidance.js';
import { handleRejectClick } from './reject.js';
import { handleGuidanceSubmit } from './submitGuidance.js';
import { handleRejectSubmit } from './submitReject.js';
import { handleTakeOverClick } from './takeOver.js';

const BUTTONS: Record<string, (deps: SlackDeps, args: ButtonArgs) => Promise<ClickResult>> = {
  [ACTIONS.cancel]: handleCancelClick,
  [ACTIONS.guidance]: handleGuidanceClick,
  [ACTIONS.takeOver]: handleTakeOverClick,
  [ACTIONS.approve]: handleApproveClick,
  [ACTIONS.reject]: handleRejectClick,
};

/** Registers the buttons, the modals and the thread replies of runs. */
export function registerRunActions(app: App, deps: SlackDeps): void {
  for (const [actionId, handler] of Object.entries(BUTTONS)) {
    app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: actionId }, async (args) => {
      const result = await handler(deps, args);
      deps.logger.info({ actionId, user: args.body.user.id, workflowId: args.action.value, result }, 'Slack button');
    });
  }
  app.view<ViewSubmitAction>({ callback_id: MODALS.guidance, type: 'view_submission' }, async (args) => {
    const result = await handleGuidanceSubmit(deps, args);
    deps.logger.info({ callbackId: MODALS.guidance, user: args.body.user.id, result }, 'Slack modal');
  });
  app.view<ViewSubmitAction>({ callback_id: MODALS.reject, type: 'view_submission' }, async (args) => {
    const result = await handleRejectSubmit(deps, args);
    deps.logger.info({ callbackId: MODALS.reject, user: args.body.user.id, result }, 'Slack modal');
  });
  registerThreadReplies(app, deps);
}
