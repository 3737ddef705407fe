/** Workflow entry point for the worker's bundle. */
export { agentTask, attemptProgressSignal, cancelSignal, humanReplySignal, statusQuery } from './agentTask.js';
