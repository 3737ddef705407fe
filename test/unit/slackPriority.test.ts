/** `/nightshift run … --priority P`: the queue priority of a Slack run (issue 10). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandInputError, parseCommand } from '../../bots/slack/commands/parse.js';

const repos = { calculator: { github: 'acme/calculator' } };

describe('slack --priority', () => {
  it('reads words and numbers 1–4, anywhere in the text', () => {
    for (const [text, want] of [
      ['run calculator fix add() --priority urgent', 1],
      ['run --priority=high fix add()', 2],
      ['run fix add() --priority NORMAL', 3],
      ['run fix add() --priority 4', 4],
    ] as const) {
      const p = parseCommand(text, repos);
      assert.equal(p.kind, 'run');
      assert.equal(p.kind === 'run' && p.args.priority, want, text);
      assert.equal(p.kind === 'run' && p.args.task, 'fix add()', text);
    }
  });

  it('leaves the priority unset without the flag', () => {
    const p = parseCommand('run fix add()', repos);
    assert.equal(p.kind === 'run' && 'priority' in p.args, false);
  });

  it('refuses other values, naming the flag', () => {
    for (const text of ['run fix --priority 0', 'run fix --priority 5', 'run fix --priority constructor', 'run fix --priority']) {
      assert.throws(() => parseCommand(text, repos), (err: unknown) => err instanceof CommandInputError && err.message.includes('--priority'), text);
    }
  });
});
