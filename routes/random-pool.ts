import { randomBytes } from 'node:crypto';

// Per-response random values (a page's CSP nonce, its forms' idempotency keys) are cut from a pool
// of random bytes, refilled when used up: one call to the random source per value cost more than
// the rest of what uses it (about 2 µs, and a getpid system call, against 0.1 µs; issue 14). The
// pool comes from the same cryptographic source, and no value is cut from it twice.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/** `bytes` fresh random bytes, encoded. */
export function pooledRandom(bytes: number, encoding: 'base64' | 'base64url'): string {
  if (used + bytes > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, bytes));
    used = 0;
  }
  const value = pool.toString(encoding, used, used + bytes);
  used += bytes;
  return value;
}
