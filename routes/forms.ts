import { DomainError, HTTP_STATUS } from '../domain/errors.ts';

/** The form's problems when `e` is a validation error; anything else is thrown on. */
export function formProblems(e: unknown): { error: string; fields: Record<string, string> } {
  if (e instanceof DomainError && (e.code === 'invalid' || e.code === 'conflict')) return { error: e.message, fields: e.fields };
  throw e;
}

/** The submitted form as plain strings (files and repeated keys are not used by these forms). */
export function formValues(body: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** Any domain refusal, to show on the form with its status (422, 409, 429 …); anything else is a real error and is thrown on. */
export function refusalOf(e: unknown) {
  if (!(e instanceof DomainError)) throw e;
  return { error: e.message, fields: e.fields, status: HTTP_STATUS[e.code] };
}
