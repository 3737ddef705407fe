/**
 * Compatibility path: validation moved to `activities/validate/` (run, test report, test contract,
 * test-definition changes). Kept so importers of `./validate.js` compile while they move to
 * `./validate/run.js`; remove once none is left.
 */
export * from './validate/run.js';
