import { desc } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { devMessages } from '../../db/schema/index.ts';
import type { OutgoingMessage, Transport } from './types.ts';

// The default transport: nothing leaves the machine; messages appear on the 开发邮箱 page.
export function devTransport(db: DbOrTx): Transport {
  return {
    async send(m: OutgoingMessage) {
      await db.insert(devMessages).values({ channel: m.channel, recipient: m.recipient, subject: m.subject, body: m.body });
    },
  };
}

export function listDevMessages(db: DbOrTx, limit: number) {
  return db.select().from(devMessages).orderBy(desc(devMessages.id)).limit(limit);
}
