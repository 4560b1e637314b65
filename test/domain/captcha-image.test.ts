import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32, inflateSync } from 'node:zlib';
import {
  CAPTCHA_ALPHABET,
  CAPTCHA_HEIGHT,
  CAPTCHA_WIDTH,
  randomCaptchaText,
  renderCaptchaPng,
} from '../../domain/auth/captcha-image.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

type Chunk = { type: string; data: Buffer; crc: number; computed: number };

function chunks(png: Buffer): Chunk[] {
  const out: Chunk[] = [];
  let off = 8;
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const typeAndData = png.subarray(off + 4, off + 8 + len);
    out.push({
      type: png.toString('latin1', off + 4, off + 8),
      data: png.subarray(off + 8, off + 8 + len),
      crc: png.readUInt32BE(off + 8 + len),
      computed: crc32(typeAndData) >>> 0,
    });
    off += 12 + len;
  }
  assert.is(off, png.length, 'chunks end exactly at the end of the file');
  return out;
}

test('alphabet excludes look-alike characters', () => {
  for (const ch of '0O1IL2Z5S8B') assert.not.ok(CAPTCHA_ALPHABET.includes(ch), ch);
  assert.is(new Set(CAPTCHA_ALPHABET).size, CAPTCHA_ALPHABET.length);
  assert.ok(/^[0-9A-Z]+$/.test(CAPTCHA_ALPHABET));
});

test('randomCaptchaText uses only the alphabet', () => {
  assert.is(randomCaptchaText().length, 4);
  assert.is(randomCaptchaText(6).length, 6);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    for (const ch of randomCaptchaText()) {
      assert.ok(CAPTCHA_ALPHABET.includes(ch), ch);
      seen.add(ch);
    }
  }
  assert.ok(seen.size > CAPTCHA_ALPHABET.length / 2, 'draws spread over the alphabet');
});

test('PNG signature, IHDR, chunk CRCs and chunk order', () => {
  const png = renderCaptchaPng('AC3K');
  assert.ok(png.subarray(0, 8).equals(SIGNATURE));
  const list = chunks(png);
  assert.equal(
    list.map((c) => c.type).filter((t) => t !== 'IDAT'),
    ['IHDR', 'IEND'],
  );
  assert.is(list[0]?.type, 'IHDR');
  assert.is(list.at(-1)?.type, 'IEND');
  for (const c of list) assert.is(c.crc, c.computed, `CRC of ${c.type}`);
  const ihdr = list[0]!.data;
  assert.is(ihdr.length, 13);
  assert.is(ihdr.readUInt32BE(0), CAPTCHA_WIDTH);
  assert.is(ihdr.readUInt32BE(4), CAPTCHA_HEIGHT);
  assert.is(CAPTCHA_WIDTH, 120);
  assert.is(CAPTCHA_HEIGHT, 40);
  assert.is(ihdr[8], 8, 'bit depth');
  assert.is(ihdr[9], 2, 'colour type RGB');
});

test('IDAT inflates to height × (1 + width × 3) with filter byte 0 per row', () => {
  const png = renderCaptchaPng('9XYW');
  const idat = Buffer.concat(chunks(png).filter((c) => c.type === 'IDAT').map((c) => c.data));
  const raw = inflateSync(idat);
  const stride = 1 + CAPTCHA_WIDTH * 3;
  assert.is(raw.length, CAPTCHA_HEIGHT * stride);
  for (let y = 0; y < CAPTCHA_HEIGHT; y++) assert.is(raw[y * stride], 0, `filter byte row ${y}`);
  // Something is actually drawn: both dark (ink) and light (background) pixels exist.
  let dark = 0;
  let light = 0;
  for (let y = 0; y < CAPTCHA_HEIGHT; y++) {
    for (let x = 0; x < CAPTCHA_WIDTH; x++) {
      const i = y * stride + 1 + x * 3;
      const sum = raw[i]! + raw[i + 1]! + raw[i + 2]!;
      if (sum < 250) dark++;
      if (sum > 600) light++;
    }
  }
  assert.ok(dark > 150, `dark pixels: ${dark}`);
  assert.ok(light > CAPTCHA_WIDTH * CAPTCHA_HEIGHT * 0.4, `light pixels: ${light}`);
});

test('two renders of the same text differ', () => {
  const a = renderCaptchaPng('MNPQ');
  const b = renderCaptchaPng('MNPQ');
  assert.not.ok(a.equals(b));
});

test('every alphabet character renders; unknown characters are rejected', () => {
  for (let i = 0; i < CAPTCHA_ALPHABET.length; i += 4) {
    const png = renderCaptchaPng(CAPTCHA_ALPHABET.slice(i, i + 4));
    assert.ok(png.subarray(0, 8).equals(SIGNATURE));
  }
  assert.ok(renderCaptchaPng('ac3k').subarray(0, 8).equals(SIGNATURE), 'lower case is upper-cased');
  assert.throws(() => renderCaptchaPng('AB0O'), RangeError);
  assert.throws(() => renderCaptchaPng(''), RangeError);
});

test.run();
