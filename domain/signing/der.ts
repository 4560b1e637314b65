// The few DER (ASN.1) pieces a CMS signature needs, written and read by hand: the signature is
// built on every printed agreement, and a general ASN.1 library's object tree costs more than the
// RSA signature itself. Only definite lengths (DER) are read; anything else is refused.

export const TAG = { INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, UTF8_STRING: 0x0c, SEQUENCE: 0x30, SET: 0x31, UTC_TIME: 0x17 } as const;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: tag, length, content. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const sequence = (...items: Buffer[]) => tlv(TAG.SEQUENCE, ...items);
/** A SET OF in DER order: its elements sorted by their encodings. */
export const setOf = (...items: Buffer[]) => tlv(TAG.SET, ...[...items].sort(Buffer.compare));
export const octets = (bytes: Buffer) => tlv(TAG.OCTET_STRING, bytes);
export const integer = (n: number) => tlv(TAG.INTEGER, Buffer.from([n]));
export const contextTag = (n: number, constructed: boolean, ...content: Buffer[]) => tlv(0x80 | (constructed ? 0x20 : 0) | n, ...content);

export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

export function oidText(content: Buffer): string {
  const arcs = [Math.floor(content[0]! / 40), content[0]! % 40];
  let v = 0;
  for (const byte of content.subarray(1)) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

export class DerError extends Error {}

/** One element read from `buf` at `at`: its tag, where its content lies, and where it ends. */
export type Node = { tag: number; start: number; contentStart: number; end: number; buf: Buffer };

export function read(buf: Buffer, at = 0): Node {
  if (at + 2 > buf.length) throw new DerError('truncated');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let len = buf[at + 1]!;
  let contentStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('indefinite or oversized length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i]!;
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > buf.length) throw new DerError('truncated');
  return { tag, start: at, contentStart, end, buf };
}

/** The elements inside a constructed element. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let at = node.contentStart; at < node.end; ) {
    const child = read(node.buf, at);
    if (child.end > node.end) throw new DerError('child overruns its parent');
    out.push(child);
    at = child.end;
  }
  return out;
}

export const content = (node: Node) => node.buf.subarray(node.contentStart, node.end);
export const whole = (node: Node) => node.buf.subarray(node.start, node.end);

export function expect(node: Node | undefined, tag: number): Node {
  if (!node || node.tag !== tag) throw new DerError(`expected tag ${tag.toString(16)}`);
  return node;
}

/** A certificate's issuer Name and serialNumber, exactly as encoded (for IssuerAndSerialNumber). */
export function issuerAndSerial(certificateDer: Buffer): { issuer: Buffer; serial: Buffer } {
  const tbs = children(expect(children(expect(read(certificateDer), TAG.SEQUENCE))[0], TAG.SEQUENCE));
  const i = tbs[0]?.tag === 0xa0 ? 1 : 0; // [0] version, present from v2 on
  return { serial: whole(expect(tbs[i], TAG.INTEGER)), issuer: whole(expect(tbs[i + 2], TAG.SEQUENCE)) };
}
