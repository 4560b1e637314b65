import { DomainError, httpStatusOf } from '../domain/errors.ts';

// Every DomainError answers with the status domain/errors.ts gives it (httpStatusOf); catch sites
// take the status from here and never write one of their own.

export type Refusal = { error: string; fields: Record<string, string>; status: ReturnType<typeof httpStatusOf> };

/** What a page re-rendered for a form answers with: 200, or a refusal's status. */
export type PageStatus = 200 | 413 | Refusal['status'];

/** The form's problems when `e` is a validation error or a conflict, with its status; anything else is thrown on. */
export function formProblems(e: unknown): Refusal {
  if (e instanceof DomainError && (e.code === 'invalid' || e.code === 'conflict')) return { error: e.message, fields: e.fields, status: httpStatusOf(e) };
  throw e;
}

/** The submitted form as plain strings (files and repeated keys are not used by these forms). */
export function formValues(body: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** Any domain refusal, to show on the form with its status (422, 409, 429 …); anything else is a real error and is thrown on. */
export function refusalOf(e: unknown): Refusal {
  if (!(e instanceof DomainError)) throw e;
  return { error: e.message, fields: e.fields, status: httpStatusOf(e) };
}
