import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localStorage } from '../../db/storage.ts';
import { DomainError } from '../../domain/errors.ts';
import { acceptUpload, MAX_SIDE, MAX_UPLOAD_BYTES } from '../../domain/uploads/accept-upload.ts';
import { stageFiles } from '../../domain/uploads/store-upload.ts';

async function rejection(bytes: Uint8Array): Promise<string> {
  try {
    await acceptUpload(bytes);
  } catch (e) {
    assert.instance(e, DomainError);
    return (e as DomainError).fields.file!;
  }
  throw new Error('accepted');
}

const photo = (width: number, height: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg') =>
  sharp({ create: { width, height, channels: 3, background: '#c00' } })[format]().toBuffer();

test('uploads: a JPEG is turned upright by its EXIF orientation, stripped of metadata and scaled to ≤ 3000 px', async () => {
  const withExif = await sharp({ create: { width: 4000, height: 1000, channels: 3, background: '#08f' } })
    .jpeg()
    .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: 'secret GPS' } } })
    .toBuffer();
  const accepted = await acceptUpload(new Uint8Array(withExif));
  assert.is(accepted.mime, 'image/jpeg');
  assert.is(accepted.height, MAX_SIDE, 'rotated: the long side is now the height');
  assert.ok(accepted.width! < accepted.height!);
  const meta = await sharp(accepted.bytes).metadata();
  assert.is(meta.exif, undefined);
  assert.is(meta.orientation, undefined);
});

test('uploads: PNG, WebP and a complete PDF are accepted; the type comes from the bytes, not the name', async () => {
  assert.is((await acceptUpload(new Uint8Array(await photo(50, 40, 'png')))).mime, 'image/png');
  assert.is((await acceptUpload(new Uint8Array(await photo(50, 40, 'webp')))).mime, 'image/webp');
  const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
  const accepted = await acceptUpload(pdf);
  assert.is(accepted.kind, 'pdf');
  assert.equal(accepted.bytes, pdf, 'a PDF is stored as uploaded');
});

test('uploads: a PDF with a script is stored as uploaded (it is only ever served as a download)', async () => {
  const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF');
  assert.is((await acceptUpload(pdf)).mime, 'application/pdf');
});

test('uploads: rejections with clear Chinese messages', async () => {
  const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(100).fill(0)]);
  assert.is(await rejection(elf), '仅支持 JPG、PNG、WebP 格式的图片或 PDF 文件', 'a renamed executable');
  assert.is(await rejection(new Uint8Array([0x4d, 0x5a, 0x90, 0])), '仅支持 JPG、PNG、WebP 格式的图片或 PDF 文件', 'an .exe');
  assert.is(await rejection(new Uint8Array(MAX_UPLOAD_BYTES + 1)), '文件不能超过 10MB');
  assert.is(await rejection(new Uint8Array()), '请选择要上传的文件');
  const full = await photo(400, 300);
  assert.is(await rejection(new Uint8Array(full.subarray(0, full.length / 2))), '图片文件已损坏或不完整，请重新拍摄或导出后上传', 'a truncated JPEG');
  assert.is(await rejection(new TextEncoder().encode('%PDF-1.4\n1 0 obj<<>>endobj\n')), 'PDF 文件不完整，请重新导出后上传');
});

test('uploads: a 20000×20000 PNG is refused by its pixel count before it is decoded', async () => {
  const huge = pngHeaderOnly(20000, 20000);
  assert.ok(huge.length < 1024, 'tiny on disk, 1.2 GB once decoded');
  assert.is(await rejection(new Uint8Array(huge)), '图片尺寸过大，请缩小后上传（不超过 5000 万像素）');
});

/** A decompression bomb: a real PNG header claiming width × height, with a few rows of data. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc(4 * (1 + width * 3)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

test('storage: generated keys only, files outside any public folder, no path tricks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wq-storage-'));
  try {
    const storage = localStorage(dir);
    const key = await storage.put(new Uint8Array([1, 2, 3]), 'png');
    assert.match(key, /^[0-9a-f]{2}\/[0-9a-f]{32}\.png$/);
    assert.equal([...(await storage.get(key))], [1, 2, 3]);
    let refused = false;
    await storage.get('../x').catch(() => (refused = true));
    assert.ok(refused);
    // Deleting the last file of a folder removes the folder: refused uploads leave nothing behind.
    const other = await storage.put(new Uint8Array([4]), 'png');
    await storage.delete(key);
    if (other.slice(0, 2) !== key.slice(0, 2)) assert.equal(await readdir(dir), [other.slice(0, 2)]);
    await storage.delete(other);
    assert.equal(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a refused batch of files leaves no file and no empty folder behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wq-storage-'));
  try {
    const bytes = new TextEncoder().encode('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    let refused = false;
    await stageFiles(localStorage(dir), { first: { name: 'a.pdf', bytes }, second: { name: 'b.exe', bytes: new Uint8Array([0x4d, 0x5a, 0, 0]) } }).catch((e) => (refused = e instanceof DomainError));
    assert.ok(refused);
    assert.equal(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
