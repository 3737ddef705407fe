/**
 * The twelve tasks of `demo --night` (worker/demoNight.ts) and how each is sent: the CLI path
 * (a Temporal client start, as `nightshift submit`), a signed Linear `Issue` webhook (label added,
 * with the issue's priority), or a signed Slack `/nightshift run … --priority`. Outcomes are fixed
 * by construction: the scripted model (devstack/nightScripts.ts) fixes every task but the one with
 * the stuck marker; a budget above the team's daily cap is refused; the late tasks arrive after
 * the team's spend has passed what its cap leaves for one more run.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signedWebhook } from './linear.js';
import { STUCK_MARKER } from './nightScripts.js';
import { devstackFixture } from './paths.js';

/** When a task is sent: before the window opens, while the queue is full, or late in the night. */
export type NightWave = 'evening' | 'urgent' | 'late';

/**
 * What the night must make of a task. `pr_or_deferred`: a task the team's daily cap contends for:
 * whether it fits depends on how many runs are in flight when it is granted a slot (each counts at
 * its reserved budget until it gives its slot back), so it ends with a PR or deferred to the next
 * day, and either way with that message at its origin.
 */
export type NightExpectation = 'pr' | 'escalation' | 'rejected' | 'deferred' | 'pr_or_deferred';

/** One task of the night. */
export interface NightTask {
  /** Label in the progress lines (`CLI-1`, `CALC-201`, `SLACK-2`). */
  label: string;
  via: 'cli' | 'linear' | 'slack';
  /** Repository name (`repos.<name>`). */
  repo: string;
  /** Queue priority: 1 urgent, 2 high, 3 normal, 4 low. */
  priority: 1 | 2 | 3 | 4;
  title: string;
  wave: NightWave;
  expect: NightExpectation;
  /** Dollar budget override, USD (CLI only). */
  usd?: number;
}

/** The Linear user who adds the label in the recorded delivery (its actor); the LocalStack makes them a workspace member, or the access check would refuse the run. */
export function nightLinearRequester(): { id: string; name: string } {
  const body = JSON.parse(readFileSync(devstackFixture('linear', 'issue-update-label-added.constructed.json'), 'utf8')) as { actor: { id: string; name: string } };
  return { id: body.actor.id, name: body.actor.name };
}

/** Linear team key of each repository (`linear.teams` maps them back). */
export const LINEAR_TEAM_OF: Record<string, string> = { calculator: 'CALC', abacus: 'ABA' };

const FIX = 'Done when `python3 -m unittest -v` passes (test_add fails today).';

/** The night's tasks in the order they are sent within their wave. */
export const NIGHT_TASKS: NightTask[] = [
  { label: 'CLI-1', via: 'cli', repo: 'calculator', priority: 3, title: 'add() subtracts instead of adding', wave: 'evening', expect: 'pr_or_deferred' },
  { label: 'CALC-201', via: 'linear', repo: 'calculator', priority: 3, title: 'Totals are wrong in the calculator', wave: 'evening', expect: 'pr_or_deferred' },
  { label: 'SLACK-1', via: 'slack', repo: 'abacus', priority: 4, title: 'fix add() in calc.py', wave: 'evening', expect: 'pr_or_deferred' },
  { label: 'ABA-11', via: 'linear', repo: 'abacus', priority: 2, title: 'abacus add() returns a negative sum', wave: 'evening', expect: 'pr' },
  { label: 'CLI-2', via: 'cli', repo: 'abacus', priority: 3, title: 'abacus: make test_add pass', wave: 'evening', expect: 'pr_or_deferred' },
  { label: 'SLACK-2', via: 'slack', repo: 'calculator', priority: 2, title: 'add() is broken, customers see wrong sums', wave: 'evening', expect: 'pr' },
  { label: 'SLACK-3', via: 'slack', repo: 'calculator', priority: 3, title: `Make the test suite run in ${STUCK_MARKER}`, wave: 'evening', expect: 'escalation' },
  { label: 'CLI-3', via: 'cli', repo: 'calculator', priority: 3, title: 'Rewrite calc.py with a big refactor', wave: 'evening', expect: 'rejected', usd: 6 },
  { label: 'CALC-202', via: 'linear', repo: 'calculator', priority: 1, title: 'URGENT: add() breaks the invoice totals', wave: 'urgent', expect: 'pr' },
  { label: 'CALC-203', via: 'linear', repo: 'calculator', priority: 3, title: 'add() wrong for negative numbers', wave: 'late', expect: 'pr_or_deferred' },
  { label: 'SLACK-4', via: 'slack', repo: 'abacus', priority: 3, title: 'fix add() once more on abacus', wave: 'late', expect: 'pr_or_deferred' },
  { label: 'CLI-4', via: 'cli', repo: 'calculator', priority: 4, title: 'calculator: add() regression', wave: 'late', expect: 'pr_or_deferred' },
];

/** The task text the agent gets (title plus the success criterion the tests show). */
export function taskText(t: NightTask): string {
  return `${t.title}. Fix \`add()\` in calc.py. ${FIX}`;
}

/** The Slack command text of a task: `run <repo> <task> --priority <word>`. */
export function slackCommandText(t: NightTask): string {
  const word = ['', 'urgent', 'high', 'normal', 'low'][t.priority];
  return `run ${t.repo} ${t.title}. ${FIX} --priority ${word}`;
}

/**
 * A signed Linear `Issue` `update` delivery in which the `nightshift` label was just added, for the
 * task's repository (its Linear team) and priority (shape:
 * devstack/fixtures/linear/issue-update-label-added.constructed.json).
 */
export function nightIssueDelivery(secret: string, t: NightTask): { issueId: string; identifier: string; title: string; headers: Record<string, string>; body: string } {
  const body = JSON.parse(readFileSync(devstackFixture('linear', 'issue-update-label-added.constructed.json'), 'utf8')) as { data: Record<string, unknown>; webhookId: string; url: string };
  const id = randomUUID();
  const teamKey = LINEAR_TEAM_OF[t.repo] ?? 'CALC';
  const url = `https://linear.app/example/issue/${t.label}`;
  body.data = {
    ...body.data,
    id,
    identifier: t.label,
    number: Number(t.label.split('-')[1]),
    title: t.title,
    description: `Fix \`add()\` in calc.py.\n\n${FIX}`,
    priority: t.priority,
    priorityLabel: ['No priority', 'Urgent', 'High', 'Medium', 'Low'][t.priority],
    team: { ...(body.data.team as object), key: teamKey, name: teamKey === 'ABA' ? 'Abacus' : 'Calculator' },
    url,
  };
  body.url = url;
  body.webhookId = randomUUID();
  return { issueId: id, identifier: t.label, title: t.title, ...signedWebhook(body, secret) };
}
