/**
 * Clarifying questions at scope (issue 8, item 4; patch `clarify-at-scope`). After scope succeeds,
 * the `assessTask` activity (activities/clarify.ts) asks a cheap model, through the gateway and
 * within the run's budget, whether the task is bounded and verifiable and which repository it
 * concerns. On `ask`: a `question` report (Linear session: an elicitation, with a `select` signal
 * when there are options; label run: a comment; Slack: a thread message), phase
 * `awaiting_answer`, a durable wait (the escalation wait) for a `humanReply`; the answer is
 * appended to the task (and chooses the repository when it names one of the options), and scope
 * runs again. At most {@link MAX_QUESTIONS} questions. Workflow code.
 */
import { condition, patched, proxyActivities } from '@temporalio/workflow';
import type { ClarifyActivities } from '../../activities/clarify.js';
import { classifyReply } from '../prompt.js';
import { renderQuestion } from '../replySummary.js';
import { renderTimedOut, type SummaryFormat } from '../summary.js';
import { addSpend, ZERO_SPEND, type ClarifyRecord, type RunOutcome, type TaskRequest } from '../types.js';
import type { RepoUnknown, Report } from '../activityTypes.js';
import { cancelled } from './cancel.js';
import { PATCH_CLARIFY_AT_SCOPE } from './patches.js';
import { report } from './report.js';
import { finish, spendOf, type RunState } from './state.js';

/** Questions a run asks at most before it goes on with what it has. */
export const MAX_QUESTIONS = 2;
/** How long a question waits for an answer when no plan says (7 days), ms. */
const DEFAULT_ANSWER_WAIT_MS = 7 * 24 * 3_600_000;

/**
 * The assessment heartbeats every 5 s (activities/index.ts): a worker that dies mid-assessment is
 * noticed at the heartbeat timeout (20 s) and the assessment retried on another, instead of at the
 * 2-minute start-to-close timeout. Activity options are not part of the replay check.
 */
const acts = proxyActivities<ClarifyActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

/** Heading of the answers appended to the task. */
const CLARIFICATIONS = '\n\nClarifications before the work started:\n';

/**
 * The request with the answers so far: appended to the task (replacing the answers a request
 * clarified before carries); the last repository chosen replaces `repo`. Pure.
 */
export function clarifiedRequest(req: TaskRequest, c: ClarifyRecord | undefined): TaskRequest {
  const answered = (c?.questions ?? []).filter((q) => q.answer !== undefined);
  if (answered.length === 0) return req;
  const repo = answered.reduce<string | undefined>((r, q) => q.repo ?? r, undefined);
  const lines = answered.map((q) => `Q: ${q.question}\nA (${q.by ?? 'requester'}): ${q.answer}`);
  const task = req.task.split(CLARIFICATIONS)[0]!;
  return { ...req, ...(repo ? { repo } : {}), task: `${task}${CLARIFICATIONS}${lines.join('\n')}` };
}

/** The option an answer names: an exact match (a Linear `select`), else the only option the text names. Pure. */
export function chosenOption(answer: string, options: string[]): string | undefined {
  const a = answer.trim().toLowerCase();
  const exact = options.find((o) => o.toLowerCase() === a);
  if (exact) return exact;
  const named = options.filter((o) => new RegExp(`(^|[^\\w.-])${o.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w.-])`, 'i').test(answer));
  return named.length === 1 ? named[0] : undefined;
}

/**
 * Runs after a successful scope (`s.plan` set). Returns `proceed` (go on), `rescope` (an answer
 * changed the task: scope again), or the run's outcome (cancelled, or timed out waiting for the
 * answer). Throws a cancellation.
 */
export async function clarifyStep(s: RunState): Promise<'proceed' | 'rescope' | RunOutcome> {
  const c = s.clarify;
  // Assessed and settled already (e.g. scope again after an infrastructure escalation), or not this run's path.
  if (c && c.decision !== 'ask') return 'proceed';
  if (!patched(PATCH_CLARIFY_AT_SCOPE)) return 'proceed';
  // Off by configuration (the plan says so; older plans do not and ask the activity, which says so).
  if (s.plan?.assess === false) {
    if (c) c.decision = 'proceed';
    return 'proceed';
  }
  if ((c?.questions.length ?? 0) >= MAX_QUESTIONS) {
    c!.decision = 'proceed';
    c!.rationale = `${MAX_QUESTIONS} questions asked (the limit): going on with the answers given`;
    return 'proceed';
  }
  const plan = s.plan!;
  const caps = s.caps ?? plan.budget;
  const spent = spendOf(s);
  const a = await acts.assessTask({
    workflowId: s.workflowId,
    sequence: (c?.questions.length ?? 0) + 1,
    title: s.req.title,
    task: s.req.task,
    repo: plan.repo,
    limits: { tokens: Math.max(0, caps.tokens - spent.tokens), usd: Math.max(0, caps.usd - spent.usd) },
  });
  if (a.disabled) {
    // Switched off since a repository question was asked: nothing more to assess.
    if (c) c.decision = 'proceed';
    return 'proceed';
  }
  const record: ClarifyRecord = { decision: a.decision, rationale: a.rationale, questions: c?.questions ?? [], spend: addSpend(c?.spend ?? ZERO_SPEND, a.spend) };
  s.clarify = record;
  if (a.decision !== 'ask' || !a.question) {
    if (a.decision === 'ask') record.decision = 'proceed';
    return 'proceed';
  }
  return await askAndWait(s, record, { question: a.question, options: a.options, optionsAreRepos: a.optionsAreRepos === true, rationale: a.rationale, waitMs: plan.escalationWaitMs ?? DEFAULT_ANSWER_WAIT_MS });
}

/** The question asked when scope knows no repository for the task (options: the configured ones). */
export const WHICH_REPOSITORY = 'Which repository should I work in?';

/**
 * Scope found no configured repository for the task (a Linear team mapped to none) and told which
 * ones there are (`repoUnknown`, given only when `scope.clarify` is on and several are
 * configured): asks which one (options: their names; Linear: a `select`), waits durably, and the
 * answer chooses the repository. Returns `rescope` (scope again), `reject` (not this run's path:
 * before patch `clarify-at-scope`, or {@link MAX_QUESTIONS} asked already; the caller rejects as
 * before), or the run's outcome (cancelled, timed out). No model call: the options are known.
 */
export async function askRepository(s: RunState, unknown: RepoUnknown): Promise<'rescope' | 'reject' | RunOutcome> {
  if (!patched(PATCH_CLARIFY_AT_SCOPE)) return 'reject';
  const c = s.clarify;
  if ((c?.questions.length ?? 0) >= MAX_QUESTIONS || unknown.repos.length < 2) return 'reject';
  const rationale = `no configured repository is named for this task (a Linear team maps to none), and ${unknown.repos.length} are configured`;
  // decision `ask`: the assessment still runs once the repository is chosen (clarifyStep).
  const record: ClarifyRecord = { decision: 'ask', rationale, questions: c?.questions ?? [], ...(c?.spend ? { spend: c.spend } : {}) };
  s.clarify = record;
  return await askAndWait(s, record, { question: WHICH_REPOSITORY, options: unknown.repos, optionsAreRepos: true, rationale, waitMs: unknown.answerWaitMs || DEFAULT_ANSWER_WAIT_MS });
}

/** One question to ask at scope. */
interface Question {
  question: string;
  options?: string[];
  /** The options are repository names: the answer chooses the run's repository. */
  optionsAreRepos: boolean;
  rationale: string;
  /** Longest wait for the answer, ms. */
  waitMs: number;
}

/**
 * Asks `q` (a `question` report), waits durably for one answer, records it in `record` and
 * re-scopes the request with it. Returns `rescope`, or the outcome (cancelled, timed out).
 */
async function askAndWait(s: RunState, record: ClarifyRecord, a: Question): Promise<'rescope' | RunOutcome> {
  const q: ClarifyRecord['questions'][number] = { question: a.question, ...(a.options ? { options: a.options } : {}) };
  record.questions.push(q);
  s.awaitingReply = true;
  await report(s, 'question', (f) => renderQuestion({ title: s.req.title, question: a.question, options: a.options, rationale: a.rationale }, f), a.options);
  s.phase = 'awaiting_answer';
  const waitMs = a.waitMs;
  const replied = await condition(() => s.replies.length > 0 || s.cancelRequest !== undefined, waitMs);
  s.awaitingReply = false;
  if (!replied) {
    await report(s, 'timed_out', (f) => renderTimedOut({ waitedMs: waitMs, waitedFor: 'answer to my question', spend: spendOf(s), note: 'Nothing was changed.' }, f));
    return finish(s, 'escalation_timed_out', { reason: `no answer to the clarifying question within ${Math.round(waitMs / 3_600_000)} h` });
  }
  if (s.cancelRequest) return await cancelled(s);
  const reply = s.replies.shift()!;
  // One answer per question: others sent meanwhile answer nothing.
  s.replies.length = 0;
  if (classifyReply(reply.text) === 'cancel') {
    s.cancelRequest = { by: reply.author, reason: 'replied cancel' };
    return await cancelled(s);
  }
  q.answer = reply.text;
  q.by = reply.author;
  const repo = a.optionsAreRepos && a.options ? chosenOption(reply.text, a.options) : undefined;
  if (repo) q.repo = repo;
  (s as { req: TaskRequest }).req = clarifiedRequest(s.req, record);
  s.phase = 'scoping';
  return 'rescope';
}

/** Report kinds that end a run or hand it to a human: they carry the assessment's decision. */
const FINAL_KINDS: ReadonlySet<Report['kind']> = new Set(['pr_opened', 'escalation', 'timed_out', 'cancelled', 'handed_over', 'failed', 'environment_failed', 'rejected']);

/** The line a final report gets about the assessment (undefined when none ran or the report is not final). */
export function clarifyNote(s: Pick<RunState, 'clarify'>, kind: Report['kind'], format: SummaryFormat): string | undefined {
  const c = s.clarify;
  if (!c || !FINAL_KINDS.has(kind)) return undefined;
  const bold = (t: string): string => (format === 'markdown' ? `**${t}**` : `*${t}*`);
  const asked = c.questions.length ? ` (${c.questions.length} question${c.questions.length > 1 ? 's' : ''} asked)` : '';
  return `${bold('Scope check:')} ${c.decision}${asked}: ${c.rationale || 'no rationale given'}`;
}
