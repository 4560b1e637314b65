import { deflateSync } from 'node:zlib';

// The site's icon, drawn here rather than kept as a binary: a browser asks for /favicon.ico on its
// first visit, and a 404 there is a console error (and, in the PDF printer, a request that fails).
// A 32 × 32 blue square with rounded corners and a white tick, as a PNG inside an ICO container.

const SIZE = 32;

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Distance from point p to the segment a–b. */
function toSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const t = Math.max(0, Math.min(1, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  return Math.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay)));
}

function png(): Buffer {
  const rows: number[] = [];
  for (let y = 0; y < SIZE; y++) {
    rows.push(0);
    for (let x = 0; x < SIZE; x++) {
      const cx = x + 0.5;
      const cy = y + 0.5;
      // Rounded corners of radius 6.
      const dx = Math.max(0, Math.abs(cx - 16) - 10);
      const dy = Math.max(0, Math.abs(cy - 16) - 10);
      const inside = Math.hypot(dx, dy) <= 6;
      const tick = Math.min(toSegment(cx, cy, 8, 17, 14, 23), toSegment(cx, cy, 14, 23, 25, 10)) <= 2.2;
      if (!inside) rows.push(0, 0, 0, 0);
      else if (tick) rows.push(255, 255, 255, 255);
      else rows.push(0x2f, 0x6d, 0xb5, 255);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', new Uint8Array(0))]);
}

/** An ICO file holding one 32 × 32 PNG image. */
export function favicon(): Buffer {
  const image = png();
  const dir = Buffer.alloc(22);
  dir.writeUInt16LE(0, 0); // reserved
  dir.writeUInt16LE(1, 2); // icon
  dir.writeUInt16LE(1, 4); // one image
  dir.writeUInt8(SIZE, 6);
  dir.writeUInt8(SIZE, 7);
  dir.writeUInt8(0, 8); // no palette
  dir.writeUInt8(0, 9);
  dir.writeUInt16LE(1, 10); // colour planes
  dir.writeUInt16LE(32, 12); // bits per pixel
  dir.writeUInt32LE(image.length, 14);
  dir.writeUInt32LE(22, 18); // offset of the image
  return Buffer.concat([dir, image]);
}
