import ExcelJS from 'exceljs';
import type { Db } from '../../db/client.ts';
import type { Actor } from '../auth/sessions.ts';
import { verifiedUnitOf } from '../employers/unit.ts';
import { DomainError } from '../errors.ts';
import type { EventSource } from '../events.ts';
import { ID_NUMBER_STORED_AS_NUMBER, idNumberStoredAsNumber, plainHeader, spreadsheetRows, UnreadableSheet } from '../spreadsheets/sheet-rows.ts';
import { addFavourite } from './favourites.ts';

// E4 批量导入: the employer fills 学生姓名 + 身份证号 + 毕业院校 per row; each row is looked up exactly
// like a single 添加学生 and answered on its own.
const HEADERS = ['学生姓名', '身份证号', '毕业院校'] as const;
export const MAX_IMPORT_ROWS = 2000;
/** 2,000 rows of the template are about 100 KB; room for formatting and an instructions sheet. */
export const FAVOURITES_IMPORT_MAX_BYTES = 5 * 1024 * 1024;

export async function favouritesTemplate(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('学生名单导入模板');
  sheet.columns = HEADERS.map((h) => ({ header: h, width: h === '身份证号' ? 24 : 20, style: { numFmt: '@' } }));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export type ImportedRow = { row: number; name: string; result: 'added' | 'already' | 'not_found' | 'invalid'; message: string };

export async function importFavourites(db: Db, source: EventSource & { actor: Actor }, cohort: number, bytes: Uint8Array): Promise<ImportedRow[]> {
  verifiedUnitOf(source.actor);
  // Read as a stream, and stop at the first row past the limit: a file of 400,000 rows costs no more
  // than one of 2,001 (it was loaded whole and stalled the server).
  const rows: Array<{ row: number; cells: [string, string, string]; idAsNumber: boolean }> = [];
  // The header is the first row, within a sheet's first 20, holding the three column names (with
  // “*”, spaces or a （note） around them, in any order, among other columns); a title above it or
  // an instructions sheet before it is passed over. Sheets after the data sheet are not data.
  let columns: number[] | undefined;
  let headerSheet = 0;
  const searched = new Map<number, number>();
  const refuse = (message: string) => new DomainError('invalid', message, { file: message });
  try {
    for await (const { sheet, number, cells, numeric } of spreadsheetRows(bytes, { allSheets: true })) {
      if (headerSheet && sheet !== headerSheet) break;
      if (!columns) {
        if (cells.every((c) => c.trim() === '')) continue;
        const seen = (searched.get(sheet) ?? 0) + 1;
        searched.set(sheet, seen);
        if (seen > 20) continue;
        const found = HEADERS.map((h) => cells.findIndex((c) => plainHeader(c) === h));
        if (found.some((i) => i < 0)) continue;
        columns = found;
        headerSheet = sheet;
        continue;
      }
      const values = columns.map((i) => String(cells[i] ?? '').trim()) as [string, string, string];
      if (values.every((c) => c === '')) continue;
      if (rows.length === MAX_IMPORT_ROWS) throw refuse(`每次最多导入 ${MAX_IMPORT_ROWS} 名学生`);
      rows.push({ row: number, cells: values, idAsNumber: idNumberStoredAsNumber(values[1], numeric[columns[1]!] ?? false) });
    }
  } catch (e) {
    if (e instanceof UnreadableSheet) throw refuse(e.message.startsWith('这是旧版') ? e.message : '文件不是有效的 .xlsx 文件，请上传用“下载批量导入模板”得到的文件');
    throw e;
  }
  const headerSeen = columns !== undefined;
  if (!headerSeen) throw refuse('没有找到表头：表格中应有“学生姓名”“身份证号”“毕业院校”三列（顺序不限），请使用“下载批量导入模板”得到的文件');
  const results: ImportedRow[] = [];
  for (const { row: r, cells, idAsNumber } of rows) {
    const [name, idNumber, school] = cells;
    if (idAsNumber) {
      results.push({ row: r, name, result: 'invalid', message: ID_NUMBER_STORED_AS_NUMBER });
      continue;
    }
    try {
      await addFavourite(db, source, { name, idNumber, school, cohort: String(cohort) });
      results.push({ row: r, name, result: 'added', message: '已加入收藏夹' });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const result = e.code === 'conflict' ? 'already' : e.code === 'not_found' ? 'not_found' : 'invalid';
      results.push({ row: r, name, result, message: Object.values(e.fields)[0] ?? e.message });
    }
  }
  return results;
}
