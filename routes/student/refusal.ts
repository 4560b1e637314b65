import { DomainError, HTTP_STATUS } from '../../domain/errors.ts';

/** A domain refusal, to show on the form with its status (422, 409, 429 …); anything else is a real error and is thrown on. */
export function refusalOf(e: unknown) {
  if (!(e instanceof DomainError)) throw e;
  return { error: e.message, fields: e.fields, status: HTTP_STATUS[e.code] };
}
