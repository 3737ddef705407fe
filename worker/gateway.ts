/** Moved: the model gateway lives in ./gateway/ (server, meter, budget, allow-list, errors). */
export * from './gateway/index.js';
