/** Workflow entry point for the worker's bundle. */
export { agentTask, approveSignal, attemptProgressSignal, cancelSignal, humanReplySignal, statusQuery } from './agentTask.js';
export { queueCoordinator } from './queueCoordinator.js';
export { digestWorkflow } from './digest.js';
export { prTrackingWorkflow } from './prTracking.js';
export { calibrationReportWorkflow } from './calibrationReport.js';
