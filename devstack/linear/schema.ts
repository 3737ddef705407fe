/**
 * Checks a request against Linear's published GraphQL schema
 * (`../shared/reference/linear/schema.graphql`, read at run time, never copied into the repo):
 * parse, `validate` (graphql-js's specified rules) and variable coercion (`getVariableValues`),
 * as a GraphQL server does before it executes anything (https://spec.graphql.org/October2021/#sec-Validation).
 *
 * Custom scalars (`JSONObject`, `DateTime`, …) are built by `buildSchema` with identity
 * coercion: any JSON value passes, which matches Linear accepting a list for
 * `AgentSessionUpdateInput.plan` (typed `JSONObject`).
 */
import { readFileSync } from 'node:fs';
import { buildSchema, getVariableValues, parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { selectOperation } from './execute.js';
import type { FakeGraphQLErrorJson } from './errors.js';

/** A loaded schema, or why there is none. */
export type LoadedSchema = { schema: GraphQLSchema; path: string } | { schema: undefined; path: string; problem: string };

const cache = new Map<string, LoadedSchema>();

/** Builds (once per path and process) the schema at `path`; a missing or unreadable file is a `problem`, not a throw. */
export function loadSchema(path: string): LoadedSchema {
  const known = cache.get(path);
  if (known) return known;
  let loaded: LoadedSchema;
  try {
    loaded = { schema: buildSchema(readFileSync(path, 'utf8'), { assumeValidSDL: true }), path };
  } catch (err) {
    loaded = { schema: undefined, path, problem: err instanceof Error ? err.message : String(err) };
  }
  cache.set(path, loaded);
  return loaded;
}

/** A request that parsed (and, with a schema, validated): its document, operation and variables. */
export interface CheckedRequest {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** Coerced by the schema's variable definitions when there is a schema; as sent otherwise. */
  variables: Record<string, unknown>;
}

/** Why a request was refused before execution. */
export interface RequestProblem {
  /** `parse`: not GraphQL; `validate`: against the schema; `variables`: coercion; `operation`: none or ambiguous. */
  stage: 'parse' | 'validate' | 'variables' | 'operation';
  errors: FakeGraphQLErrorJson[];
}

const graphqlError = (e: GraphQLError, code: string): FakeGraphQLErrorJson => ({
  message: e.message,
  ...(e.locations ? { locations: [...e.locations] } : {}),
  extensions: { type: 'graphql error', code, userError: true },
});

/**
 * Parses `query`, validates it against `schema` (when given) and coerces `variables`.
 * @returns the checked request, or the problem with GraphQL errors to answer (never throws).
 */
export function checkRequest(schema: GraphQLSchema | undefined, query: string, variables: Record<string, unknown>, operationName?: string): CheckedRequest | RequestProblem {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (err) {
    return { stage: 'parse', errors: [graphqlError(err as GraphQLError, 'GRAPHQL_PARSE_FAILED')] };
  }
  if (schema) {
    const errors = validate(schema, document);
    if (errors.length) return { stage: 'validate', errors: errors.map((e) => graphqlError(e, 'GRAPHQL_VALIDATION_FAILED')) };
  }
  const operation = selectOperation(document, operationName);
  if (!operation) {
    return { stage: 'operation', errors: [{ message: 'Must provide operation name if query contains multiple operations.', extensions: { type: 'graphql error', code: 'BAD_USER_INPUT' } }] };
  }
  if (!schema) return { document, operation, variables };
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coerced.errors) return { stage: 'variables', errors: coerced.errors.map((e) => graphqlError(e, 'BAD_USER_INPUT')) };
  return { document, operation, variables: coerced.coerced };
}
