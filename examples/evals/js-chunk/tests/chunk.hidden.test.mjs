import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunk } from '../chunk.mjs';

test('size larger than the array', () => {
  assert.deepEqual(chunk([1, 2, 3], 5), [[1, 2, 3]]);
});

test('seven by three', () => {
  assert.deepEqual(chunk([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6], [7]]);
});

test('empty', () => {
  assert.deepEqual(chunk([], 2), []);
});
