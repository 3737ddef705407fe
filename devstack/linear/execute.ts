/**
 * A small GraphQL executor for the Linear stand-in: runs the document's operation against plain
 * resolver objects and returns exactly the selected fields (aliases, fragments, nested arguments),
 * with no schema. Validation against Linear's schema happens before (./schema.ts); this only
 * shapes the answer. Fragment type conditions are not checked (the fake's objects are concrete).
 */
import { Kind, valueFromASTUntyped, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { FakeGraphQLError, type FakeGraphQLErrorJson } from './errors.js';

/**
 * A value the fake answers with: a plain JSON value, or an object whose properties may be
 * functions of the field's arguments (`states: (args) => ({ nodes: [...] })`).
 */
export type FakeValue = unknown;

/** Root fields: `query` and `mutation` resolvers, called with the field's arguments. */
export interface RootResolvers {
  query: Record<string, (args: Record<string, unknown>) => FakeValue>;
  mutation: Record<string, (args: Record<string, unknown>) => FakeValue>;
}

/** The result of {@link executeDocument}. */
export interface ExecutionOutcome {
  data: Record<string, unknown> | null;
  errors: FakeGraphQLErrorJson[];
  /** Root fields executed, in order (e.g. `commentCreate`). */
  fields: string[];
}

/** The operation to run: the named one, else the only one. */
export function selectOperation(doc: DocumentNode, operationName?: string): OperationDefinitionNode | undefined {
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return ops.find((o) => o.name?.value === operationName);
  return ops.length === 1 ? ops[0] : undefined;
}

/**
 * Executes `operation` of `doc` against `roots` with `variables` (already coerced when the schema
 * is known). A resolver that throws a {@link FakeGraphQLError} gives one `errors[]` entry and
 * `data: null` (Linear's payloads are non-null, so the error reaches the root).
 * @throws FakeGraphQLError when the root field has no resolver (`FAKE_UNIMPLEMENTED` from the caller's `unknown`).
 */
export function executeDocument(
  doc: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  roots: RootResolvers,
  unknown: (field: string) => FakeGraphQLError,
): ExecutionOutcome {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const table = operation.operation === 'mutation' ? roots.mutation : roots.query;
  const data: Record<string, unknown> = {};
  const errors: FakeGraphQLErrorJson[] = [];
  const fields: string[] = [];

  const argsOf = (node: { arguments?: readonly { name: { value: string }; value: Parameters<typeof valueFromASTUntyped>[0] }[] }): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const a of node.arguments ?? []) {
      const v = valueFromASTUntyped(a.value, variables);
      if (v !== undefined) out[a.name.value] = v;
    }
    return out;
  };
  const project = (value: unknown, set: SelectionSetNode | undefined): unknown => {
    if (value === undefined || value === null) return null;
    if (Array.isArray(value)) return value.map((v) => project(v, set));
    if (!set || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const walk = (s: SelectionSetNode): void => {
      for (const sel of s.selections) {
        if (sel.kind === Kind.FRAGMENT_SPREAD) {
          const f = fragments.get(sel.name.value);
          if (f) walk(f.selectionSet);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          walk(sel.selectionSet);
        } else {
          const key = sel.alias?.value ?? sel.name.value;
          if (sel.name.value === '__typename') {
            out[key] = obj.__typename ?? null;
            continue;
          }
          const raw = obj[sel.name.value];
          const v = typeof raw === 'function' ? (raw as (a: Record<string, unknown>) => unknown)(argsOf(sel)) : raw;
          out[key] = project(v, sel.selectionSet);
        }
      }
    };
    walk(set);
    return out;
  };

  for (const sel of operation.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) continue;
    const key = sel.alias?.value ?? sel.name.value;
    const name = sel.name.value;
    if (name === '__typename') {
      data[key] = operation.operation === 'mutation' ? 'Mutation' : 'Query';
      continue;
    }
    fields.push(name);
    try {
      const resolver = table[name];
      if (!resolver) throw unknown(name);
      data[key] = project(resolver(argsOf(sel)), sel.selectionSet);
    } catch (err) {
      if (!(err instanceof FakeGraphQLError)) throw err;
      errors.push({ message: err.message, path: [key], extensions: err.extensions });
    }
  }
  return { data: errors.length ? null : data, errors, fields };
}
