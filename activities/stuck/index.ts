/**
 * Stuck detection: watches an agent's normalized event stream and decides, from outside the
 * agent, when an attempt is looping, in the spirit of OpenHands' `controller/stuck.py`
 * (https://github.com/All-Hands-AI/OpenHands/blob/main/openhands/controller/stuck.py).
 *
 * Modules: ./normalize.ts (what makes two calls or two errors "the same"), ./classify.ts
 * (read-only calls, edit tools), ./rules.ts (one state machine per rule), ./detector.ts (the
 * detector and the silence rule), ./workspaceWatch.ts (file changes made by shell commands),
 * ./monitor.ts (stdout line → parser → work-tree check → detector, in order; liveness).
 *
 * Rules (thresholds from `StuckThresholds`, config key `stuck`):
 * - `repeated_failing_call`: the same call fails `repeatedFailingCall` times. A success of that
 *   call, or any file change, resets its count (running the tests, editing, and running them again
 *   is progress; two failures then a success is fine). Other calls in between do not.
 * - `repeated_error`: the same error signature comes from `repeatedError` *different* calls (the
 *   same call failing again counts once: that is the rule above). A file change resets it.
 * - `alternating_loop`: the last 2 × `alternatingCycles` calls are A,B,A,B,… where A and B are
 *   different calls and each repetition also gave the same normalized outcome (error flag +
 *   output), with no file change in between. Polling that sees new output is not a loop. Read-only
 *   calls take part: reading the same two files in a loop is caught here.
 * - `no_progress`: while the most recent test run failed, `noProgressCalls` calls in a row that
 *   change nothing, or `readOnlyCalls` read-only calls. The window opens at a failing test run (or
 *   at a file change made while the last test run was failing) and closes on a file change or a
 *   passing test run. Read-only calls (Read, Grep, Glob, LS, TodoWrite, … and shell inspection
 *   commands: `cat`, `ls`, `rg`, `grep`, `find`, `git status|diff|log`; see ./classify.ts) do not
 *   count toward `noProgressCalls`: looking at the code before a fix is work. They have their own,
 *   larger cap so that reading forever still ends. A successful edit tool is never counted (its
 *   file change follows), and a shell call that changed files is progress: with a work-tree watcher
 *   (`reportsShellChanges`), a verdict reached on a call that may have written files waits for
 *   that call's change report. A test run is a shell command containing the configured
 *   `testCommand` (normalized), or one of the common test runners.
 * - `silence`: no event and no output for `silenceSeconds`; not after the agent's `final` event.
 *   A tool call still running (started, no result yet: a long test suite or build) is liveness:
 *   silence is suspended while it runs, up to `toolCallSeconds` for that one call (default 15
 *   minutes, as long as a validation run may take), then it fires.
 * A "file change" is a `file_change` event: from the parsers (a successful Edit/Write/… or Codex
 * patch) or, in the `runAgent` activity, from the work-tree watcher after any call that is not
 * read-only (so `sed -i`, formatters and codemods count). When several rules fire on the same
 * event, the first in the order above wins. Once a verdict exists it stays.
 */
export { isEditTool, isReadOnlyCall, isReadOnlyCommand } from './classify.js';
export { describeEvent } from './describe.js';
export { StuckDetector, type Liveness, type StuckDetectorOptions } from './detector.js';
export { StreamMonitor, type ChangeSource, type StreamMonitorOptions } from './monitor.js';
export { callKey, commandOf, errorSignature, isTestCommand, normalizeCommand, normalizeToolInput, normalizeVolatile } from './normalize.js';
export { WorkspaceWatcher, type WorkspaceWatcherOptions } from './workspaceWatch.js';
