import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import ExcelJS from 'exceljs';

/**
 * exceljs' streaming writer (each row committed as it is added, never the whole sheet in memory),
 * its .xlsx collected in memory: `bytes` resolves once the workbook is committed. For the files a
 * request or a job hands on whole (an import's error file, a 就业方案 export).
 */
export function streamedWorkbook(): { workbook: ExcelJS.stream.xlsx.WorkbookWriter; bytes: Promise<Buffer> } {
  const out = new PassThrough();
  const bytes = buffer(out);
  // A writer that failed is reported by its commit; the collected bytes are then never awaited.
  bytes.catch(() => {});
  return { workbook: new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false }), bytes };
}
