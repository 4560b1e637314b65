import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { idNumberCheckDigit } from '../codes/id-number.ts';

// The one .xlsx reader of the imports (导入学生名单 and the employers' 学生收藏夹): the first worksheet's
// rows as text, read as a stream, so a file is never loaded whole and a reader that has seen enough
// (a row limit) stops reading by leaving the loop.

/** A row's cells as text, and which of them Excel stored as numbers (an ID number there has lost digits). */
export type SheetRow = { sheet: number; number: number; cells: string[]; numeric: boolean[] };

/** Why a file could not be read, in words for the person who uploaded it. */
export class UnreadableSheet extends Error {}

/**
 * The first worksheet's rows, or with `allSheets` every sheet's in order (for a file whose data sheet
 * follows an instructions sheet). Breaking out of the loop stops reading.
 */
export async function* sheetRows(input: Readable, opts: { allSheets?: boolean } = {}): AsyncGenerator<SheetRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  let firstSheetRead = false;
  let index = 0;
  try {
    for await (const sheet of reader) {
      if (firstSheetRead && !opts.allSheets) continue;
      firstSheetRead = true;
      index++;
      for await (const row of sheet) {
        const values = row.values as ExcelJS.CellValue[];
        yield { sheet: index, number: row.number, cells: Array.from(values, cellText), numeric: Array.from(values, isNumberCell) };
      }
    }
  } catch {
    throw new UnreadableSheet('无法读取文件，请确认是用 Excel 保存的 .xlsx 文件');
  } finally {
    input.destroy();
  }
  if (!firstSheetRead) throw new UnreadableSheet('文件中没有工作表，请使用导入模板填写');
}

function isNumberCell(value: ExcelJS.CellValue): boolean {
  if (typeof value === 'number') return true;
  return value !== null && typeof value === 'object' && ('formula' in value || 'sharedFormula' in value) && typeof value.result === 'number';
}

/**
 * An ID number that Excel stored as a number (a number cell, or its scientific notation written out
 * as text, e.g. 1.10105E+17): its last digits are already lost, so it is refused with what to do,
 * never "repaired".
 */
export function idNumberStoredAsNumber(text: string, numeric: boolean): boolean {
  const t = text.trim();
  if ((numeric && /^\d{12,}$/.test(t.replace(/\.0+$/, ''))) || /^\d(\.\d+)?E\+?\d+$/i.test(t)) return true;
  // A CSV does not say a column was a number; Excel keeps 15 significant digits, so the number
  // written out ends in 000. With a wrong check digit that is what happened, not a typo.
  return /^\d{15}000$/.test(t) && idNumberCheckDigit(t.slice(0, 17)) !== t[17];
}

export const ID_NUMBER_STORED_AS_NUMBER =
  '身份证号：Excel 把这一列存成了数字，末尾几位已经丢失（例如显示为 1.10105E+17 或末尾变成 000）。请把“身份证号”一列设为“文本”格式，重新粘贴或输入完整的身份证号后再导入';

/** A cell as the person sees it: text, a number's digits, a date as YYYY-MM-DD, a formula's result. */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value !== 'object') return '';
  // Excel date cells: the reader gives midnight UTC of the calendar day.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('formula' in value || 'sharedFormula' in value) return cellText((value.result ?? null) as ExcelJS.CellValue);
  if ('text' in value) return typeof value.text === 'string' ? value.text : cellText(value.text);
  return '';
}

/** What a file is, by its first bytes: an .xlsx (a zip), an old .xls (an OLE2 compound file) or text (CSV). */
export function spreadsheetKind(bytes: Uint8Array): 'xlsx' | 'xls' | 'csv' {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'xlsx';
  if (bytes[0] === 0xd0 && bytes[1] === 0xcf && bytes[2] === 0x11 && bytes[3] === 0xe0) return 'xls';
  return 'csv';
}

export const OLD_XLS = '这是旧版 Excel（.xls，Excel 97–2003）文件，无法直接读取。请在 Excel 中“另存为” .xlsx（Excel 工作簿）后重新导入';

/**
 * A CSV's text: UTF-8 (with or without BOM), else GB18030 (which covers GBK, what Chinese Excel
 * writes by default). `encoding` says which, for the message when the header is still unreadable.
 */
export function decodeCsv(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'gb18030' } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'gb18030' };
  }
}

/** RFC 4180 rows (quoted fields, "" inside quotes, CRLF or LF), 1-based cells like the .xlsx reader's. */
export function* csvRows(text: string): Generator<SheetRow> {
  let field = '';
  let cells: string[] = [''];
  let quoted = false;
  let number = 1;
  const row = (): SheetRow => ({ sheet: 1, number: number++, cells, numeric: cells.map(() => false) });
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      cells.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(field);
      field = '';
      yield row();
      cells = [''];
    } else field += ch;
  }
  if (field !== '' || cells.length > 1) {
    cells.push(field);
    yield row();
  }
}

/** A file's first bytes, which tell its kind. */
async function headOf(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    return head;
  } finally {
    await handle.close();
  }
}

/**
 * The rows of an uploaded spreadsheet, in memory or at a path, whatever its kind: .xlsx streamed,
 * CSV decoded, .xls refused with what to do.
 */
export async function* spreadsheetRows(source: Uint8Array | string, opts: { allSheets?: boolean } = {}): AsyncGenerator<SheetRow & { encoding?: string }> {
  const kind = spreadsheetKind(typeof source === 'string' ? await headOf(source) : source.subarray(0, 8));
  if (kind === 'xls') throw new UnreadableSheet(OLD_XLS);
  if (kind === 'xlsx') {
    yield* sheetRows(typeof source === 'string' ? createReadStream(source) : Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]), opts);
    return;
  }
  const { text, encoding } = decodeCsv(typeof source === 'string' ? await readFile(source) : source);
  for (const row of csvRows(text)) yield { ...row, encoding };
}

export { plainHeader } from './headers.ts';
