/** Workflows of the search-attribute test. */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { upsertRunAttributes, type RunAttributes } from '../../workflows/searchAttributes.js';

/** Upserts these attributes. */
export const setAttributesSignal = defineSignal<[RunAttributes]>('setAttributes');
/** Ends the workflow. */
export const finishSignal = defineSignal('finish');

/** Upserts its input's attributes, then each signalled set, until `finish`. */
export async function attributed(initial: RunAttributes): Promise<void> {
  let done = false;
  setHandler(setAttributesSignal, (a) => upsertRunAttributes(a));
  setHandler(finishSignal, () => void (done = true));
  upsertRunAttributes(initial);
  await condition(() => done);
}
