import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { isIP } from 'node:net';
import type { AppEnv } from './context.ts';

/**
 * The client's address for sign-in limits and the audit trail. Behind a reverse proxy
 * (TRUST_PROXY) it is the right-most X-Forwarded-For entry, the one our proxy appended; entries
 * further left come from the client and could be forged. Null where there is no connection
 * (in-process test requests).
 */
export function clientIp(c: Context<AppEnv>): string | null {
  if (c.get('app').config.trustProxy) {
    const last = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (last && isIP(last)) return normalise(last);
  }
  try {
    const address = getConnInfo(c).remote.address;
    return address && isIP(address) ? normalise(address) : null;
  } catch {
    return null;
  }
}

const normalise = (address: string) => address.replace(/^::ffff:/, '');
