import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';

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
  return (numeric && /^\d{12,}$/.test(t.replace(/\.0+$/, ''))) || /^\d(\.\d+)?E\+?\d+$/i.test(t);
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
