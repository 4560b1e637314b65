import { inflateSync } from 'node:zlib';

// Reading back the text of a PDF that Chromium printed, for tests that check what a document says.

type PdfObject = { dict: string; stream: Buffer | undefined };

/** The numbered objects of a PDF as Chromium (Skia) writes it: no object streams, direct /Length. */
function pdfObjects(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  for (const m of text.matchAll(/(\d+) 0 obj\s*/g)) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    const streamAt = text.indexOf('stream', start);
    if (streamAt === -1 || streamAt > end) {
      objects.set(Number(m[1]), { dict: text.slice(start, end), stream: undefined });
      continue;
    }
    const dict = text.slice(start, streamAt);
    const dataStart = streamAt + (text.startsWith('stream\r\n', streamAt) ? 8 : 7);
    const length = Number(/\/Length (\d+)/.exec(dict)?.[1]);
    objects.set(Number(m[1]), { dict, stream: pdf.subarray(dataStart, dataStart + length) });
  }
  return objects;
}

const refs = (dict: string, key: string) => [...(new RegExp(`/${key}\\s*(\\[[^\\]]*\\]|\\d+ 0 R)`).exec(dict)?.[1] ?? '').matchAll(/(\d+) 0 R/g)].map((r) => Number(r[1]));
const inflated = (o: PdfObject | undefined) => (o?.stream ? inflateSync(o.stream).toString('latin1') : '');

/** A font's glyph → text map, from its ToUnicode CMap. */
function toUnicode(cmap: string): Map<number, string> {
  const utf16 = (hex: string) => String.fromCharCode(...(hex.match(/.{4}/g) ?? []).map((h) => Number.parseInt(h, 16)));
  const map = new Map<number, string>();
  for (const [, section = ''] of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, from = '', to = ''] of section.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(Number.parseInt(from, 16), utf16(to));
  }
  for (const [, section = ''] of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, lo = '', hi = '', to = ''] of section.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) {
      for (let g = Number.parseInt(lo, 16); g <= Number.parseInt(hi, 16); g++) map.set(g, String.fromCodePoint(Number.parseInt(to, 16) + g - Number.parseInt(lo, 16)));
    }
  }
  return map;
}

/**
 * The text each page draws, in drawing order: every `<glyphs> Tj` of its content streams read
 * through the ToUnicode map of the font selected by the `Tf` before it. Chromium draws a table
 * cell's text as one run, so a value appears whole.
 */
export function pageTexts(pdf: Uint8Array): string[] {
  const objects = pdfObjects(Buffer.from(pdf));
  const catalog = [...objects.values()].find((o) => /\/Type\s*\/Pages\b/.test(o.dict))!;
  return refs(catalog.dict, 'Kids').map((pageId) => {
    const page = objects.get(pageId)!.dict;
    const fonts = new Map([.../\/Font\s*<<([^>]*)>>/.exec(page)![1]!.matchAll(/\/(\w+)\s+(\d+) 0 R/g)].map(([, name, id]) => [name!, toUnicode(inflated(objects.get(refs(objects.get(Number(id))!.dict, 'ToUnicode')[0]!)))]));
    let font = new Map<number, string>();
    let text = '';
    for (const content of refs(page, 'Contents').map((id) => inflated(objects.get(id)))) {
      for (const [, name, glyphs] of content.matchAll(/\/(\w+)\s+[\d.]+\s+Tf|<([0-9a-fA-F]*)>\s*Tj/g)) {
        if (name) font = fonts.get(name) ?? new Map();
        else text += (glyphs!.match(/.{4}/g) ?? []).map((g) => font.get(Number.parseInt(g, 16)) ?? '\uFFFD').join('');
      }
    }
    return text;
  });
}
