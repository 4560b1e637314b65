import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { isIP } from 'node:net';

/** The peer address of the connection, or null where there is none (in-process test requests). */
export function clientIp(c: Context): string | null {
  try {
    const address = getConnInfo(c).remote.address;
    return address && isIP(address) ? address.replace(/^::ffff:/, '') : null;
  } catch {
    return null;
  }
}
