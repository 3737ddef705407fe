/**
 * Registers the run's search attributes (workflows/searchAttributes.ts) on a Temporal namespace
 * through the operator API (what `temporal operator search-attribute create` does), adding only the
 * missing ones, so it is safe to call on every start. Works on the CLI dev server and a self-hosted
 * cluster; Temporal Cloud manages attributes in its console (the call is refused: the caller logs it).
 * https://docs.temporal.io/self-hosted-guide/visibility#custom-search-attributes
 */
import type { Connection } from '@temporalio/client';
import { RUN_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes.js';

/** temporal.api.enums.v1.IndexedValueType numbers (api/enums/v1/common.proto). */
const INDEXED_VALUE_TYPE: Record<string, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };

/**
 * Adds the run attributes the namespace lacks. Returns the names added (empty when all existed).
 * @throws the server's gRPC error (e.g. PERMISSION_DENIED) when it refuses
 */
export async function registerSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = RUN_SEARCH_ATTRIBUTES.filter((k) => !have.has(k.name));
  if (!missing.length) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]!])),
  });
  return missing.map((k) => k.name);
}

/** The namespace lacks run search attributes and they could not be added: runs would stall at their first upsert. */
export class SearchAttributesMissingError extends Error {
  readonly code = 'SEARCH_ATTRIBUTES_MISSING';
  constructor(
    readonly namespace: string,
    /** Names of the missing attributes. */
    readonly missing: string[],
    options: { cause?: unknown } = {},
  ) {
    super(
      `namespace ${namespace} lacks the search attributes ${missing.join(', ')} and they could not be added ` +
        `(a run would stall at its first upsert). Create them: ${RUN_SEARCH_ATTRIBUTES.filter((k) => missing.includes(k.name))
          .map((k) => `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${k.type[0]}${k.type.slice(1).toLowerCase()}`)
          .join('; ')} (Temporal Cloud: in the namespace's settings).`,
      options,
    );
    this.name = 'SearchAttributesMissingError';
  }
}

/**
 * Makes sure the namespace has every run attribute before a worker serves runs: adds the missing
 * ones, and when the server refuses that (Temporal Cloud, no operator permission) checks whether
 * they exist after all. Returns the names added, and `verified: false` when the server lets us
 * neither add nor list them (the caller warns: runs stall if they are missing).
 * @throws SearchAttributesMissingError when some are known to be missing and cannot be added
 */
export async function ensureSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
): Promise<{ added: string[]; verified: boolean }> {
  try {
    return { added: await registerSearchAttributes(connection, namespace), verified: true };
  } catch (err) {
    let existing;
    try {
      existing = await connection.operatorService.listSearchAttributes({ namespace });
    } catch {
      return { added: [], verified: false };
    }
    const have = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
    const missing = RUN_SEARCH_ATTRIBUTES.map((k) => k.name).filter((n) => !have.has(n));
    if (missing.length) throw new SearchAttributesMissingError(namespace, missing, { cause: err });
    return { added: [], verified: true };
  }
}
