import ExcelJS from 'exceljs';
import type { Db } from '../../db/client.ts';
import type { Actor } from '../auth/sessions.ts';
import { verifiedUnitOf } from '../employers/unit.ts';
import { DomainError } from '../errors.ts';
import type { EventSource } from '../events.ts';
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
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch {
    throw new DomainError('invalid', '请上传用“下载批量导入模板”得到的 .xlsx 文件', { file: '文件不是有效的 .xlsx 文件' });
  }
  const sheet = workbook.worksheets[0];
  const header = (sheet?.getRow(1).values as unknown[] | undefined)?.slice(1).map((v) => String(v ?? '').trim());
  if (!sheet || HEADERS.some((h, i) => header?.[i] !== h)) throw new DomainError('invalid', '表头应为：学生姓名、身份证号、毕业院校', { file: '表头应为：学生姓名、身份证号、毕业院校' });
  if (sheet.rowCount - 1 > MAX_IMPORT_ROWS) throw new DomainError('invalid', `每次最多导入 ${MAX_IMPORT_ROWS} 名学生`, { file: `每次最多导入 ${MAX_IMPORT_ROWS} 名学生` });
  const results: ImportedRow[] = [];
  for (let r = 2; r <= sheet.rowCount; r++) {
    const cells = HEADERS.map((_, i) => String(sheet.getRow(r).getCell(i + 1).text ?? '').trim());
    if (cells.every((c) => c === '')) continue;
    const [name, idNumber, school] = cells as [string, string, string];
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
