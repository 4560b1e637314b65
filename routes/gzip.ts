import { constants, createGzip, gzipSync } from 'node:zlib';

// A page is gzipped in one synchronous call (routes/render.ts). gzipSync builds a zlib stream
// for every call and frees it after: a Transform with its events, and zlib's own state of about
// 256 KB, allocated and cleared each time. Here one deflate state is kept and reset between pages,
// through the handle node's own gzipSync drives (node:zlib's processChunkSync, node 24). Should a
// node release lack that handle, gzipSync serves.

/**
 * zlib's level 6 (its default) took 0.9 ms for a 30 KB page here, level 4 0.25 ms for 5% more bytes
 * (7.9 KB against 7.5 KB): the CPU matters more to a page's cost than 400 bytes to a weak network.
 * Level 1 took 41 µs a page against level 4's 59–67 µs over the five pages of issue 14's goal 1, for
 * 4% more bytes (2,265 against 2,178 on average): gzip was still a seventh of a page's node CPU.
 */
const LEVEL = 1;
const CHUNK = 64 * 1024;

type Handle = {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  reset(): void;
};

function kept(): ((input: Buffer) => Uint8Array<ArrayBuffer>) | null {
  const stream = createGzip({ level: LEVEL }) as unknown as { _handle?: Handle; _writeState?: Uint32Array };
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) return null;
  const out = Buffer.allocUnsafe(CHUNK);
  return (input) => {
    const parts: Buffer<ArrayBuffer>[] = [];
    let inOff = 0;
    let inLen = input.length;
    try {
      for (;;) {
        handle.writeSync(constants.Z_FINISH, input, inOff, inLen, out, 0, CHUNK);
        const [availOut, availIn] = [state[0]!, state[1]!];
        parts.push(Buffer.from(out.subarray(0, CHUNK - availOut)));
        if (availOut !== 0) break;
        inOff += inLen - availIn;
        inLen = availIn;
      }
    } finally {
      handle.reset();
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };
}

const deflate = kept();

// The page's UTF-8 is written into one kept buffer too (Buffer.from measured its length, then
// allocated and wrote: 15 µs for a 10 KB page against 8): deflate reads it synchronously, before
// the next page. A page whose UTF-8 may not fit (3 bytes a UTF-16 unit at most) gets its own.
const INPUT_BYTES = 256 * 1024;
const input = Buffer.allocUnsafe(INPUT_BYTES);

/** Whether a request's Accept-Encoding names gzip (not x-gzip) with a weight above 0. */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  for (const coding of acceptEncoding.split(',')) {
    const [name, ...params] = coding.split(';');
    if (name!.trim().toLowerCase() !== 'gzip') continue;
    const q = params.find((p) => /^\s*q\s*=/i.test(p));
    return q === undefined || Number(q.slice(q.indexOf('=') + 1).trim()) > 0;
  }
  return false;
}

/** The page as one gzip member, at level 1. */
export function gzipPage(page: string): Uint8Array<ArrayBuffer> {
  if (!deflate) return gzipSync(page, { level: LEVEL });
  if (page.length * 3 > INPUT_BYTES) return deflate(Buffer.from(page));
  return deflate(input.subarray(0, input.write(page)));
}
