// The one error type of the domain; routes map its code to an HTTP status in one place.
export const ERROR_CODES = ['not_found', 'forbidden', 'illegal_transition', 'invalid', 'conflict', 'rate_limited'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS: Record<ErrorCode, 404 | 403 | 409 | 422 | 429> = {
  not_found: 404,
  forbidden: 403,
  illegal_transition: 409,
  invalid: 422,
  conflict: 409,
  rate_limited: 429,
};

/**
 * The one mapping of a refusal to HTTP. A conflict that names form fields (a username already
 * taken) is a form to correct, 422 like any invalid input; a conflict with a record's state is 409.
 */
export function httpStatusOf(e: DomainError): 404 | 403 | 409 | 422 | 429 {
  return e.code === 'conflict' && Object.keys(e.fields).length > 0 ? 422 : HTTP_STATUS[e.code];
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** Messages per form field, for 422 re-renders. */
  readonly fields: Record<string, string>;
  constructor(code: ErrorCode, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.fields = fields;
  }
}

export const notFound = (what = '记录') => new DomainError('not_found', `${what}不存在或无权查看`);
export const forbidden = () => new DomainError('forbidden', '无权进行此操作');
