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
