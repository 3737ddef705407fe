/** The clarifying assessment's pure parts: reading the model's answer, the option an answer names, the clarified request. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAssessment } from '../../activities/clarify.js';
import { chosenOption, clarifiedRequest } from '../../workflows/run/clarify.js';
import type { TaskRequest } from '../../workflows/types.js';

const repos = ['calculator', 'billing'];

test('parseAssessment reads the JSON among prose, keeps repository options, refuses what is not the decision asked for', () => {
  assert.deepEqual(parseAssessment('Sure.\n{"decision":"proceed","rationale":"one failing test"}', repos), { decision: 'proceed', rationale: 'one failing test' });
  assert.deepEqual(parseAssessment('{"decision":"ask","question":"Which one?","options":["billing","calculator","billing"],"rationale":"r"}', repos), {
    decision: 'ask', question: 'Which one?', options: ['billing', 'calculator'], optionsAreRepos: true, rationale: 'r',
  });
  assert.equal(parseAssessment('{"decision":"ask","question":"Which?","options":["billing","ledger"],"rationale":"r"}', repos)?.optionsAreRepos, undefined, 'not all options are repositories');
  assert.equal(parseAssessment('{"decision":"ask","rationale":"no question"}', repos), undefined);
  assert.equal(parseAssessment('{"decision":"maybe"}', repos), undefined);
  assert.equal(parseAssessment('no json', repos), undefined);
});

test('chosenOption: an exact choice, or the only option the text names as a word', () => {
  assert.equal(chosenOption(' Billing ', repos), 'billing');
  assert.equal(chosenOption('it is the billing service', repos), 'billing');
  assert.equal(chosenOption('billing or calculator, not sure', repos), undefined);
  assert.equal(chosenOption('the billing-v2 one', repos), undefined, 'a longer name is not the option');
});

test('clarifiedRequest appends the answers and takes the last repository chosen', () => {
  const req: TaskRequest = { source: { kind: 'cli' }, requester: 'pm', repo: 'calculator', title: 't', task: 'Fix totals.' };
  assert.equal(clarifiedRequest(req, undefined), req);
  const c = clarifiedRequest(req, { decision: 'ask', rationale: '', questions: [{ question: 'Which?', answer: 'billing', by: 'ana', repo: 'billing' }, { question: 'Pending?' }] });
  assert.equal(c.repo, 'billing');
  assert.equal(c.task, 'Fix totals.\n\nClarifications before the work started:\nQ: Which?\nA (ana): billing');
  // A second answer: the request clarified once is clarified again, each answer listed once.
  const again = clarifiedRequest(c, { decision: 'ask', rationale: '', questions: [{ question: 'Which?', answer: 'billing', by: 'ana', repo: 'billing' }, { question: 'Done when?', answer: 'the totals test passes', by: 'ana' }] });
  assert.equal(again.task, 'Fix totals.\n\nClarifications before the work started:\nQ: Which?\nA (ana): billing\nQ: Done when?\nA (ana): the totals test passes');
});
