import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { SignPdf } from '@signpdf/signpdf';
import { PDFObject, SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import type { CadesSigner } from './cades.ts';

// A printed PDF sealed as PAdES: @signpdf appends a signature field (an incremental update of the
// PDF Chromium printed) with an ETSI.CAdES.detached placeholder, then fills it with the CMS that
// CadesSigner builds over every byte of the file but the placeholder.

export type Seal = {
  /** Why the document is signed: names the platform and the agreement (shown by every reader). */
  reason: string;
  /** The signer's name as readers show it next to the certificate's. */
  name: string;
  location: string;
  /** Where the signature can also be checked (the /verify page). */
  contactInfo: string;
  signingTime: Date;
};

const signpdf = new SignPdf();

export async function sealPdf(pdf: Buffer, seal: Seal, signer: CadesSigner): Promise<Buffer> {
  const withPlaceholder = plainAddPlaceholder({
    pdfBuffer: pdf,
    reason: seal.reason,
    name: seal.name,
    location: seal.location,
    contactInfo: seal.contactInfo,
    signingTime: seal.signingTime,
    signatureLength: signer.signatureLength,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    appName: 'wangqian',
  });
  for (const [key, value] of [['Reason', seal.reason], ['Name', seal.name], ['Location', seal.location], ['ContactInfo', seal.contactInfo]] as const) {
    textStringInPlace(withPlaceholder, pdf.length, key, value);
  }
  return signpdf.sign(withPlaceholder, signer, seal.signingTime);
}

/**
 * @signpdf's placeholder writes a text string's UTF-16 bytes through Buffer.from(string), which
 * encodes each byte above 0x7F as two bytes of UTF-8: readers then show 全国… as "þÿQhV…". The
 * string is put right in place: the correct bytes are never longer than the wrong ones, and the rest
 * is padded with spaces (whitespace between a dictionary's entries), so no offset moves.
 */
function textStringInPlace(pdf: Buffer, from: number, key: string, value: string): void {
  const literal = PDFObject.convert(new String(value));
  const wrong = Buffer.from(`/${key} ${literal}`, 'utf8');
  const right = Buffer.from(`/${key} ${literal}`, 'latin1');
  if (wrong.length === right.length) return;
  const at = pdf.indexOf(wrong, from);
  if (at === -1) throw new Error(`signature placeholder: /${key} not found`);
  right.copy(pdf, at);
  pdf.fill(0x20, at + right.length, at + wrong.length);
}
