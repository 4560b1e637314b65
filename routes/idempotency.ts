import type { Context, Next } from 'hono';
import { claimIdempotencyKey, settleIdempotencyKey } from '../domain/idempotency.ts';
import { PORTALS } from '../domain/auth/roles.ts';
import type { AppEnv } from './context.ts';
import { pooledRandom } from './random-pool.ts';
import { render } from './render.ts';

export const IDEMPOTENCY_FIELD = '_idem';

/** Every POST form on a page gets a fresh key as its first field, so no template can forget it. */
export function withIdempotencyKeys(html: string): string {
  return html.replace(/<form\b[^>]*\bmethod="post"[^>]*>/g, (tag) => `${tag}<input type="hidden" name="${IDEMPOTENCY_FIELD}" value="${freshKey()}">`);
}

// Cut from a pool of random bytes: a list page carries a form per row (routes/random-pool.ts).
const freshKey = () => pooledRandom(12, 'base64url');

/**
 * X2 for signed-in users: the first submission of a key runs; a repeat while it runs gets 409, a
 * repeat after a redirect gets the same redirect, a repeat after a result page gets a notice that
 * it was already submitted. A refused submission (4xx) frees the key for a corrected resubmission.
 */
export async function idempotentForms(c: Context<AppEnv>, next: Next) {
  const actor = c.get('actor');
  const type = c.req.header('content-type') ?? '';
  if (c.req.method !== 'POST' || !actor || !/^(application\/x-www-form-urlencoded|multipart\/form-data)/.test(type)) return next();
  // Another portal's route is refused by its guard; its body is not read here first.
  const portal = c.req.path.split('/')[1]!;
  if ((PORTALS as readonly string[]).includes(portal) && portal !== actor.portal) return next();
  // Parsed once, within the route's body limit (routes/body.ts); the route reuses the parsed form.
  const key = (await c.req.parseBody())[IDEMPOTENCY_FIELD];
  if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(key)) return next();
  const { db } = c.get('app');
  const prior = await claimIdempotencyKey(db, actor.userId, key);
  if (prior) {
    if (prior.location) return c.redirect(prior.location, 303);
    const message = prior.status === null ? '该表单正在提交，请勿重复提交。' : '该表单已提交，请勿重复提交，请返回查看结果。';
    return render(c, 'errors/error', { title: '重复提交', heading: '重复提交', message }, 409);
  }
  // Settled once: by the handler as soon as its outcome is decided (pageOrFragments, beside the
  // fragments' reads), or here with the response. Settled early, a later failure to render the answer
  // leaves it settled: what the submission did is done, and a repeat is told so.
  let settling: Promise<void> | undefined;
  const settle = (status: number, location: () => string | null) => (settling ??= settleIdempotencyKey(db, actor.userId, key, status, status >= 400 ? null : location()));
  c.set('settleForm', (status, location) => settle(status, () => location));
  try {
    await next();
  } finally {
    // A refused form's page keeps its headers as made (routes/headers.ts): only a success's location is read.
    await settle(c.res.status, () => c.res.headers.get('location'));
  }
}
