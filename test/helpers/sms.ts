import { desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { outbox } from '../../db/schema/index.ts';
import type { Doc } from './html.ts';

/** The code in the newest SMS queued for a phone (jobs are off in tests, so it waits in the outbox). */
export async function latestSmsCode(db: Db, phone: string): Promise<string> {
  const [sms] = await db.select().from(outbox).where(eq(outbox.recipient, phone)).orderBy(desc(outbox.id)).limit(1);
  const code = sms && sms.channel === 'sms' ? /验证码 (\d{6})/.exec(sms.body)?.[1] : undefined;
  if (!code) throw new Error(`no SMS code queued for ${phone}`);
  return code;
}

/** The value of a form field on a page. */
export function fieldValue(doc: Doc, name: string): string {
  const input = doc.querySelector(`[name="${name}"]`);
  if (!input) throw new Error(`no field ${name} on the page`);
  return input.getAttribute('value') ?? '';
}
