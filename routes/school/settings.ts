import { Hono, type Context } from 'hono';
import { getSigningSettings, updateSigningSettings } from '../../domain/schools/signing-settings.ts';
import { REVIEW_MODE_LABELS, REVIEW_MODES } from '../../domain/tenancy/agreement-types.ts';
import { forbidden } from '../../domain/errors.ts';
import { withVerb } from '../../domain/reviews/chain.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { cachedVerb } from '../school-cache.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { render } from '../render.ts';

export const settingsRoutes = new Hono<AppEnv>();

// The review mode in the province's verb (S3), like every word of a reviewer's screens.
async function page(c: Context<AppEnv>, values: Record<string, unknown>, problems: { error?: string; notice?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const verb = await cachedVerb(c);
  const reviewModes = REVIEW_MODES.map((m) => ({ value: m, label: withVerb(REVIEW_MODE_LABELS[m], verb) }));
  return render(c, 'school/settings/edit', { title: '签约设置', values, reviewModes, verb, fields: {}, ...problems }, status);
}

settingsRoutes.use(async (c, next) => {
  if (c.get('actor')!.role !== 'school') throw forbidden();
  await next();
});

settingsRoutes.get('/', async (c) => {
  const settings = await getSigningSettings(c.get('app').db, c.get('actor')!);
  return page(c, settings, { notice: c.req.query('saved') === '1' ? '签约设置已保存。' : undefined });
});

settingsRoutes.post('/', async (c) => {
  const body = formValues(await c.req.parseBody());
  try {
    await updateSigningSettings(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, body);
    return c.redirect('/school/settings?saved=1', 303);
  } catch (e) {
    const problems = formProblems(e);
    return page(c, { ...body, onlineSigning: !!body.onlineSigning, paperRegistration: !!body.paperRegistration, destinationRegistration: !!body.destinationRegistration }, problems, problems.status);
  }
});
