/**
 * `ensureSearchAttributes`: a worker never serves runs on a namespace without the run search
 * attributes (every run would stall at its first upsert). The operator service is faked: the
 * refusal it stands for (Temporal Cloud, no operator permission) cannot be had locally; the real
 * dev-server path is covered by test/workflow/searchAttributes.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureSearchAttributes, SearchAttributesMissingError } from '../../worker/searchAttributes.js';
import { RUN_SEARCH_ATTRIBUTES } from '../../workflows/searchAttributes.js';

type Service = Parameters<typeof ensureSearchAttributes>[0]['operatorService'];

function operator(have: string[], refuseAdd: boolean): { service: Service; added: string[][] } {
  const added: string[][] = [];
  const service = {
    listSearchAttributes: async () => ({ customAttributes: Object.fromEntries(have.map((n) => [n, 2])), systemAttributes: {} }),
    addSearchAttributes: async (req: { searchAttributes?: Record<string, number> | null }) => {
      if (refuseAdd) throw Object.assign(new Error('7 PERMISSION_DENIED: Request unauthorized.'), { code: 7 });
      added.push(Object.keys(req.searchAttributes ?? {}));
      return {};
    },
  } as unknown as Service;
  return { service, added };
}

const ALL = RUN_SEARCH_ATTRIBUTES.map((k) => k.name);

describe('ensureSearchAttributes', () => {
  it('adds the missing ones when the server allows it', async () => {
    const { service, added } = operator(['NsStatus'], false);
    const { added: names, verified } = await ensureSearchAttributes({ operatorService: service }, 'default');
    assert.equal(verified, true);
    assert.deepEqual(names.sort(), ALL.filter((n) => n !== 'NsStatus').sort());
    assert.equal(added.length, 1);
  });

  it('a refused registration is fine when every attribute exists (created in the console)', async () => {
    const { service } = operator(ALL, true);
    assert.deepEqual(await ensureSearchAttributes({ operatorService: service }, 'prod'), { added: [], verified: true });
  });

  it('a server that lets us neither add nor list them: unverified (the worker warns), not refused', async () => {
    const { service } = operator([], true);
    (service as unknown as { listSearchAttributes: () => Promise<never> }).listSearchAttributes = async () => {
      throw new Error('7 PERMISSION_DENIED');
    };
    assert.deepEqual(await ensureSearchAttributes({ operatorService: service }, 'cloud'), { added: [], verified: false });
  });

  it('refuses to go on when some are missing and cannot be added, naming them and the command', async () => {
    const { service } = operator(['NsStatus', 'NsRepo'], true);
    await assert.rejects(ensureSearchAttributes({ operatorService: service }, 'prod'), (err: unknown) => {
      assert.ok(err instanceof SearchAttributesMissingError);
      assert.equal(err.code, 'SEARCH_ATTRIBUTES_MISSING');
      assert.deepEqual(err.missing.sort(), ALL.filter((n) => n !== 'NsStatus' && n !== 'NsRepo').sort());
      assert.match(err.message, /temporal operator search-attribute create --namespace prod --name NsSpendUsd --type Double/);
      return true;
    });
  });
});
