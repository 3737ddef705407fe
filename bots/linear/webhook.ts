/**
 * The Linear webhook receiver's public surface (kept for importers): the handler (handler.ts),
 * the pure decisions (decide.ts) and the Temporal port (runs.ts).
 */
export { createLinearWebhookHandler, StartRunTimeoutError, type LinearWebhookDeps } from './handler.js';
export { decideLinearWebhook, LinearPayloadError, type DecideOptions, type LinearWebhookDecision } from './decide.js';
export { temporalLinearRuns, type LinearRunsPort } from './runs.js';
