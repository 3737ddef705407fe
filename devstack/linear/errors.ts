/**
 * Errors the Linear stand-in answers with, in Linear's shape: `errors[].extensions.type` is what
 * `@linear/sdk` maps to its error classes (`parseLinearError` in `@linear/sdk@98` `dist/index.mjs`:
 * `"invalid input"` → `InvalidInputLinearError`, `"forbidden"` → `ForbiddenLinearError`,
 * `"ratelimited"` → `RatelimitedLinearError`, …). The messages are ours: no recorded Linear error
 * body was available.
 */

/** One entry of a GraphQL response's `errors`. */
export interface FakeGraphQLErrorJson {
  message: string;
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
  extensions: Record<string, unknown>;
}

/** Thrown by a resolver of the fake: becomes one `errors[]` entry (and `data: null`). */
export class FakeGraphQLError extends Error {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'FakeGraphQLError';
  }
}

/** A referenced entity does not exist (Linear: `Entity not found`, type `invalid input`). */
export function notFound(entity: string): FakeGraphQLError {
  return new FakeGraphQLError(`Entity not found: ${entity}`, {
    type: 'invalid input',
    code: 'INPUT_ERROR',
    userError: true,
    userPresentableMessage: `Could not find referenced ${entity}.`,
  });
}

/** Input the schema accepts but Linear refuses (empty body, bad id, …). */
export function invalidInput(message: string): FakeGraphQLError {
  return new FakeGraphQLError(message, { type: 'invalid input', code: 'INPUT_ERROR', userError: true, userPresentableMessage: message });
}

/** The API key may not do this (the fake's {@link FakeLinear.forbid}). */
export function forbidden(field: string): FakeGraphQLError {
  return new FakeGraphQLError(`You don't have permission to perform ${field}`, {
    type: 'forbidden',
    code: 'FORBIDDEN',
    statusCode: 403,
    userError: true,
    userPresentableMessage: 'You do not have permission to do this.',
  });
}

/** A field the schema has but the fake does not answer (a gap in the fake, not in the caller). */
export function unimplemented(field: string): FakeGraphQLError {
  return new FakeGraphQLError(`The Linear stand-in does not implement ${field}`, { type: 'other', code: 'FAKE_UNIMPLEMENTED' });
}
