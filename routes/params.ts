import type { Context } from 'hono';
import { notFound } from '../domain/errors.ts';

/** The numeric :id of the path; anything else is simply not found. */
export function idParam(c: Context, name = 'id'): number {
  const id = Number(c.req.param(name));
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) throw notFound();
  return id;
}
