import { describe, it, test, expect } from 'vitest';
describe('calc', () => {
  it('adds', () => { expect(1 + 1).toBe(2); });
  it('halves', () => { expect(1 / 2).toBe(1); });
  it.skip('legacy', () => {});
});
test('top level', () => {});
