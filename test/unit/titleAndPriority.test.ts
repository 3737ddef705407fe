/**
 * Run titles from task text (bots/title.ts: the first sentence, at most 80 characters at a word
 * boundary; the task keeps everything) and `--priority` for `nightshift submit` (the same words
 * and numbers as Slack's `/nightshift run --priority`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseCommand, parsePriority } from '../../bots/slack/commands/parse.js';
import { titleOf } from '../../bots/slack/startRun.js';
import { TITLE_MAX } from '../../bots/title.js';
import { buildProgram, priorityArg } from '../../worker/program.js';

test('a title is the first sentence; "Done when …" stays in the task', () => {
  assert.equal(titleOf('Fix add() in calc.py so that 2 + 2 is 4. Done when test_add passes and nothing else changes.'), 'Fix add() in calc.py so that 2 + 2 is 4');
  assert.equal(titleOf('Why does the parser drop comments? Done when it keeps them'), 'Why does the parser drop comments?');
  assert.equal(titleOf('Bump lodash\n\nDone when npm test passes'), 'Bump lodash');
  assert.equal(titleOf('Update docs/setup.md for node 22'), 'Update docs/setup.md for node 22', 'a dot inside a word ends no sentence');
});

test('a long first sentence is cut at a word boundary within 80 characters', () => {
  const long = 'Refactor the payment reconciliation module so that every currency conversion goes through the shared rates service and is logged';
  const t = titleOf(long);
  assert.ok(t.length <= TITLE_MAX, `${t.length}: ${t}`);
  assert.ok(t.endsWith('…'));
  assert.ok(long.startsWith(t.slice(0, -1)), 'a prefix of the task');
  assert.equal(long[t.length - 1], ' ', 'cut before a word, not inside one');
  assert.equal(titleOf(''), '');
});

test('--priority: urgent|high|normal|low|1-4, for Slack and the CLI alike', () => {
  assert.deepEqual(['urgent', 'HIGH', 'normal', 'low', '1', '4'].map(parsePriority), [1, 2, 3, 4, 1, 4]);
  for (const bad of ['0', '5', 'asap', '']) assert.equal(parsePriority(bad), undefined, bad);
  assert.equal(priorityArg('urgent'), 1);
  assert.throws(() => priorityArg('asap'), InvalidArgumentError);
  const slack = parseCommand('run calculator fix it --priority high', { calculator: { github: 'acme/calculator' } });
  assert.ok(slack.kind === 'run' && slack.args.priority === 2);
  const submit = buildProgram().commands.find((c) => c.name() === 'submit');
  const opt = submit?.options.find((o) => o.long === '--priority');
  assert.ok(opt, 'nightshift submit has --priority');
  assert.equal(opt.parseArg?.('low', undefined), 4);
});
