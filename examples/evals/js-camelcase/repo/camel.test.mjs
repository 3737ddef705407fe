import assert from 'node:assert/strict';
import { test } from 'node:test';
import { camelCase } from './camel.mjs';

test('spaces', () => {
  assert.equal(camelCase('foo bar'), 'fooBar');
});

test('hyphens and underscores', () => {
  assert.equal(camelCase('foo-bar_baz'), 'fooBarBaz');
});
