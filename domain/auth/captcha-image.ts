// Server-rendered image captcha for the school / province / admin sign-in pages.
// Everything is drawn by hand into an RGB raster and encoded as a PNG with node:zlib,
// so no third-party service is involved and the answer never appears in markup.
import { randomBytes, randomInt } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/** Digits and uppercase letters minus the look-alikes 0/O, 1/I/L, 2/Z, 5/S, 8/B. */
export const CAPTCHA_ALPHABET = '34679ACDEFGHJKMNPQRTUVWXY';
export const CAPTCHA_WIDTH = 120;
export const CAPTCHA_HEIGHT = 40;

/** Random captcha answer drawn uniformly from CAPTCHA_ALPHABET with a CSPRNG. */
export function randomCaptchaText(length = 4): string {
  let out = '';
  for (let i = 0; i < length; i++) out += CAPTCHA_ALPHABET[randomInt(CAPTCHA_ALPHABET.length)];
  return out;
}

// 5×7 bitmap font, rows top to bottom, '#' = ink.
const FONT: Record<string, string> = {
  '3': '####. ....# ....# .###. ....# ....# ####.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
};
const GLYPH_W = 5;
const GLYPH_H = 7;

type Segment = [number, number, number, number]; // x0, y0, x1, y1 in cell units

// Glyphs whose bitmap skeleton reads ambiguously once stroked (a bitmap V looks like U).
const STROKE_OVERRIDES: Record<string, Segment[]> = {
  V: [[0, 0, 2, 6], [4, 0, 2, 6]],
};

/** Turns a bitmap glyph into strokes joining 8-connected ink cells, so that diagonals stay
 *  connected after rotation and every stroke has the same width regardless of direction. */
function glyphStrokes(ch: string): Segment[] {
  const override = STROKE_OVERRIDES[ch];
  if (override) return override;
  const rows = FONT[ch];
  if (rows === undefined) throw new RangeError(`captcha: no glyph for ${JSON.stringify(ch)}`);
  const ink = rows.split(' ').map((r) => [...r].map((c) => c === '#'));
  const on = (x: number, y: number): boolean => ink[y]?.[x] === true;
  const segs: Segment[] = [];
  for (let y = 0; y < GLYPH_H; y++) {
    for (let x = 0; x < GLYPH_W; x++) {
      if (!on(x, y)) continue;
      const link = (nx: number, ny: number): void => void (on(nx, ny) && segs.push([x, y, nx, ny]));
      link(x + 1, y);
      link(x, y + 1);
      // Diagonals only where no orthogonal path already turns the corner.
      if (!on(x + 1, y) && !on(x, y + 1)) link(x + 1, y + 1);
      if (!on(x - 1, y) && !on(x, y + 1)) link(x - 1, y + 1);
      const near = [-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => (dx || dy) && on(x + dx, y + dy)));
      if (!near) segs.push([x, y, x, y]); // isolated dot
    }
  }
  return segs;
}

function distToSegment(px: number, py: number, s: Segment): number {
  const [ax, ay, bx, by] = s;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Uniform floats in [0, 1) from a pooled CSPRNG buffer (cheap enough per pixel). */
function makeRandom(): (lo?: number, hi?: number) => number {
  let pool = randomBytes(1024);
  let pos = 0;
  return (lo = 0, hi = 1) => {
    if (pos + 4 > pool.length) [pool, pos] = [randomBytes(1024), 0];
    pos += 4;
    return lo + (pool.readUInt32LE(pos - 4) / 0x1_0000_0000) * (hi - lo);
  };
}

type Rgb = [number, number, number];

function blend(px: Uint8Array, x: number, y: number, c: Rgb, alpha: number): void {
  if (x < 0 || y < 0 || x >= CAPTCHA_WIDTH || y >= CAPTCHA_HEIGHT || alpha <= 0) return;
  const i = (y * CAPTCHA_WIDTH + x) * 3;
  const a = Math.min(1, alpha);
  for (let k = 0; k < 3; k++) px[i + k] = Math.round(px[i + k]! + (c[k]! - px[i + k]!) * a);
}

/** Render `text` (characters of CAPTCHA_ALPHABET) as a 120×40 RGB PNG. */
export function renderCaptchaPng(text: string): Buffer {
  const W = CAPTCHA_WIDTH;
  const H = CAPTCHA_HEIGHT;
  const rnd = makeRandom();
  const chars = [...text.toUpperCase()];
  if (chars.length === 0) throw new RangeError('captcha: empty text');
  const glyphs = chars.map(glyphStrokes);
  const px = new Uint8Array(W * H * 3);

  // Light background: a soft diagonal gradient between two random pale colours.
  const bgA: Rgb = [rnd(225, 250), rnd(225, 250), rnd(225, 250)];
  const bgB: Rgb = [rnd(225, 250), rnd(225, 250), rnd(225, 250)];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const t = (x / W + y / H) / 2;
      const i = (y * W + x) * 3;
      for (let k = 0; k < 3; k++) px[i + k] = Math.round(bgA[k]! + (bgB[k]! - bgA[k]!) * t);
    }
  }

  const darkColour = (): Rgb => {
    const c: Rgb = [rnd(10, 120), rnd(10, 120), rnd(10, 120)];
    c[Math.floor(rnd(0, 3))] = rnd(0, 40); // keep at least one channel very dark
    return c;
  };

  // Faint background clutter lines (drawn before the text).
  for (let n = 0; n < 3; n++) {
    drawCurve(px, rnd, [rnd(120, 190), rnd(120, 190), rnd(120, 190)], 1, 0.7);
  }

  // Glyphs: stroke skeletons with per-glyph scale, offset, rotation and shear, drawn as
  // anti-aliased thick lines through a gentle global sine warp.
  const margin = 10;
  const slot = (W - 2 * margin) / glyphs.length;
  const waveAmp = rnd(0.8, 2);
  const waveFreq = rnd(0.05, 0.1);
  const wavePhase = rnd(0, Math.PI * 2);
  glyphs.forEach((strokes, gi) => {
    const colour = darkColour();
    const sx = Math.min(3.4, slot / 6.5) * rnd(0.9, 1.05);
    const sy = rnd(3.2, 3.8);
    const cx = margin + slot * (gi + 0.5) + rnd(-2, 2);
    const cy = H / 2 + rnd(-2.5, 2.5);
    const angle = rnd(-0.28, 0.28);
    const shear = rnd(-0.25, 0.25);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const half = rnd(1.4, 1.8); // half stroke width in px
    const toPx = (gx: number, gy: number): [number, number] => {
      const v = (gy - (GLYPH_H - 1) / 2) * sy;
      const u = (gx - (GLYPH_W - 1) / 2) * sx + shear * v;
      return [cx + cos * u - sin * v, cy + sin * u + cos * v];
    };
    const segs = strokes.map(([x0, y0, x1, y1]): Segment => [...toPx(x0, y0), ...toPx(x1, y1)]);
    const reach = Math.ceil(Math.hypot(GLYPH_W * sx, GLYPH_H * sy) / 2 + 4);
    for (let y = Math.floor(cy - reach); y <= cy + reach; y++) {
      for (let x = Math.floor(cx - reach); x <= cx + reach; x++) {
        const fx = x + 0.5;
        const fy = y + 0.5 + waveAmp * Math.sin(fx * waveFreq + wavePhase);
        let d = Infinity;
        for (const s of segs) d = Math.min(d, distToSegment(fx, fy, s));
        blend(px, x, y, colour, half + 0.5 - d);
      }
    }
  });

  // Strike-through curves in text-like colours, then speckle noise.
  for (let n = 0; n < 2; n++) drawCurve(px, rnd, darkColour(), rnd(1, 1.5), 0.8);
  for (let n = 0; n < 160; n++) {
    const c: Rgb = rnd() < 0.5 ? darkColour() : [rnd(100, 220), rnd(100, 220), rnd(100, 220)];
    blend(px, Math.floor(rnd(0, W)), Math.floor(rnd(0, H)), c, rnd(0.5, 1));
  }

  return encodePng(W, H, px);
}

/** A random sine-ish stroke spanning the image from left to right. */
function drawCurve(px: Uint8Array, rnd: (lo?: number, hi?: number) => number, c: Rgb, width: number, alpha: number): void {
  const x0 = rnd(0, CAPTCHA_WIDTH * 0.2);
  const x1 = rnd(CAPTCHA_WIDTH * 0.8, CAPTCHA_WIDTH);
  const y0 = rnd(8, CAPTCHA_HEIGHT - 8);
  const y1 = rnd(8, CAPTCHA_HEIGHT - 8);
  const amp = rnd(2, 7);
  const freq = rnd(0.03, 0.09);
  const phase = rnd(0, Math.PI * 2);
  const r = width / 2;
  for (let x = x0; x <= x1; x += 0.25) {
    const t = (x - x0) / (x1 - x0);
    const y = y0 + (y1 - y0) * t + amp * Math.sin(x * freq + phase);
    for (let yy = Math.floor(y - r); yy <= Math.ceil(y + r); yy++) {
      const cover = Math.max(0, Math.min(1, r + 0.5 - Math.abs(yy + 0.5 - y)));
      blend(px, Math.floor(x), yy, c, cover * alpha * 0.35); // several samples per column
    }
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4, 8))) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Minimal PNG encoder: 8-bit truecolour, filter type 0 on every row. */
function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, colour type 2 (RGB), deflate, filter 0, no interlace
  const stride = width * 3;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
