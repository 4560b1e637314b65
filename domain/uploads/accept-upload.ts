import sharp from 'sharp';
import { DomainError } from '../errors.ts';

// The one gate every upload passes (identity documents, stamped agreements, proofs): the type is
// read from the bytes, not the name; images are decoded, turned upright, stripped of metadata
// (EXIF GPS and all) and scaled down; PDFs are kept as they are but only ever served as downloads.
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const MAX_INPUT_PIXELS = 50_000_000;
export const MAX_SIDE = 3000;

export type AcceptedUpload = { kind: 'image' | 'pdf'; mime: string; extension: string; bytes: Uint8Array; width: number | null; height: number | null };

const KINDS = [
  { mime: 'image/jpeg', extension: 'jpg', magic: (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { mime: 'image/png', extension: 'png', magic: (b: Uint8Array) => ascii(b, 1, 4) === 'PNG' && b[0] === 0x89 },
  { mime: 'image/webp', extension: 'webp', magic: (b: Uint8Array) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP' },
  { mime: 'application/pdf', extension: 'pdf', magic: (b: Uint8Array) => ascii(b, 0, 5) === '%PDF-' },
] as const;

function ascii(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

/** Checks and normalises one file; a rejection names the form `field` it came from. */
export async function acceptUpload(bytes: Uint8Array, field = 'file'): Promise<AcceptedUpload> {
  const reject = (message: string) => new DomainError('invalid', message, { [field]: message });
  if (bytes.length === 0) throw reject('请选择要上传的文件');
  if (bytes.length > MAX_UPLOAD_BYTES) throw reject('文件不能超过 10MB');
  const kind = KINDS.find((k) => k.magic(bytes));
  if (!kind) throw reject('仅支持 JPG、PNG、WebP 格式的图片或 PDF 文件');
  if (kind.mime === 'application/pdf') {
    // A complete PDF ends with %%EOF (possibly followed by a newline or a little padding).
    if (!ascii(bytes, Math.max(0, bytes.length - 1024), bytes.length).includes('%%EOF')) throw reject('PDF 文件不完整，请重新导出后上传');
    return { kind: 'pdf', mime: kind.mime, extension: kind.extension, bytes, width: null, height: null };
  }
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated' }).rotate().resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true });
    const encoded = kind.mime === 'image/jpeg' ? image.jpeg({ quality: 85, mozjpeg: true }) : kind.mime === 'image/png' ? image.png({ compressionLevel: 9 }) : image.webp({ quality: 85 });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { kind: 'image', mime: kind.mime, extension: kind.extension, bytes: new Uint8Array(data), width: info.width, height: info.height };
  } catch (e) {
    const message = String((e as Error).message ?? e);
    if (message.includes('pixel limit')) throw reject('图片尺寸过大，请缩小后上传（不超过 5000 万像素）');
    throw reject('图片文件已损坏或不完整，请重新拍摄或导出后上传');
  }
}
