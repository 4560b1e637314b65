import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import type { Db } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';
import type { Actor } from '../../domain/auth/sessions.ts';
import { employerOfActor } from '../../domain/tenancy/summaries.ts';
import { printable } from '../../views/pdf.ts';
import type { AppEnv } from '../context.ts';

// E2 网签授权书: the template an employer user downloads, fills in by hand, has stamped and uploads
// for identity verification, so it is served before the unit is verified. It is prefilled only
// with what the platform knows about the signed-in user; nothing personal travels in the URL.
export const authorizationLetterRoutes = new Hono<AppEnv>();

authorizationLetterRoutes.get('/authorization-letter.pdf', async (c) => {
  const { db, views, pdf } = c.get('app');
  const html = printable(views, 'employer/authorization-letter', { letter: await letterValues(db, c.get('actor')!) });
  return c.body(new Uint8Array(await pdf.print(html)), 200, {
    'Content-Type': 'application/pdf',
    'Content-Disposition': `attachment; filename="authorization-letter.pdf"; filename*=UTF-8''${encodeURIComponent('网签授权书.pdf')}`,
    'Cache-Control': 'no-store',
  });
});

/** The unit as registered (if the user belongs to one yet) and the user's own phone; the rest is written by hand. */
async function letterValues(db: Db, actor: Actor) {
  const [employer, [user]] = await Promise.all([
    employerOfActor(db, actor),
    db.select({ phone: users.phone }).from(users).where(eq(users.id, actor.userId)),
  ]);
  return { unitName: employer?.name, uscc: employer?.uscc, applicantPhone: user?.phone ?? undefined };
}
