/** Workflow entry point for the worker's bundle. */
export { agentTask, cancelSignal, humanReplySignal, statusQuery } from './agentTask.js';
