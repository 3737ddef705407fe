/** What acting on a delivery did, for the log line and the tests. */
export interface ActOutcome {
  /**
   * `started`: a run started; `already_started`: the run of this delivery exists (redelivery);
   * `signalled`: a signal reached an open run (or started it, for signalWithStart);
   * `told_open`: the label was added while a run is open, which was told (`duplicateRequest`);
   * `follow_up`: a reply after the session's run ended started the next run of the session;
   * `nothing`: nothing to reach (no open run; a stop after the end).
   */
  result: 'started' | 'already_started' | 'signalled' | 'told_open' | 'follow_up' | 'nothing';
  workflowId?: string;
  /** Why, in words. */
  why: string;
}
