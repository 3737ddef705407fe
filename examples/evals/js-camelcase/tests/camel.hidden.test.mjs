import assert from 'node:assert/strict';
import { test } from 'node:test';
import { camelCase } from '../camel.mjs';

test('runs of separators and capitals', () => {
  assert.equal(camelCase('  Multiple   spaces here '), 'multipleSpacesHere');
});

test('snake case', () => {
  assert.equal(camelCase('snake_case_name'), 'snakeCaseName');
});
