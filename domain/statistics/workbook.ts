import ExcelJS from 'exceljs';
import type { StatTable } from './tables.ts';

// Every table of a 数据统计 page as one .xlsx, a sheet per table, numbers as numbers and shares as
// percentages Excel can add up.

const PERCENT = /^(\d+(?:\.\d+)?)%$/;
const sheetName = (title: string, used: Set<string>) => {
  let name = title.replace(/[:\\/?*[\]]/g, ' ').slice(0, 31);
  for (let i = 2; used.has(name); i++) name = `${title.slice(0, 28)}(${i})`;
  used.add(name);
  return name;
};

export async function tablesWorkbook(caption: string, tables: readonly StatTable[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = '网上签约平台';
  const used = new Set<string>();
  for (const t of tables) {
    const sheet = workbook.addWorksheet(sheetName(t.title, used));
    sheet.addRow([`${caption} · ${t.title}`]).font = { bold: true };
    sheet.addRow(t.head).font = { bold: true };
    for (const r of [...t.rows, ...(t.foot ? [t.foot] : [])]) {
      const row = sheet.addRow(r.map((v) => (typeof v === 'string' && PERCENT.test(v) ? Number(PERCENT.exec(v)![1]) / 100 : v)));
      r.forEach((v, i) => {
        if (typeof v === 'string' && PERCENT.test(v)) row.getCell(i + 1).numFmt = '0.0%';
      });
    }
    if (t.foot) sheet.lastRow!.font = { bold: true };
    sheet.columns.forEach((col, i) => (col.width = Math.min(40, Math.max(8, ...[t.head[i] ?? '', ...t.rows.map((r) => String(r[i] ?? ''))].map((s) => [...s].length * 2 + 2)))));
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
