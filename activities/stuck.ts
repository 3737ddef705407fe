/** Stuck detection; the modules live in ./stuck/ (see ./stuck/index.ts for the rules). */
export * from './stuck/index.js';
