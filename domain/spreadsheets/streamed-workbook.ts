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

/** What a sheet's rows may hold in memory, written but not yet compressed, before its writer waits. */
const BACKLOG_BYTES = 1024 * 1024;

/** The writable archiver pipes a sheet into: node's Writable, or readable-stream 2's, which lacks writableLength. */
type Backlogged = {
  writableLength?: number;
  destroyed?: boolean;
  _writableState?: { length?: number; ended?: boolean };
  once?: (event: 'drain' | 'error' | 'close', listener: () => void) => unknown;
  removeListener?: (event: 'drain' | 'error' | 'close', listener: () => void) => unknown;
};
const backlogOf = (pipe: Backlogged) => pipe.writableLength ?? pipe._writableState?.length;

/**
 * Waits until the rows committed to `sheet` are mostly compressed. exceljs' streaming writer hands
 * each 64 KB of a sheet's XML to the zip's deflate stream without waiting for it (its buffer's
 * write never says "full"), so a writer that commits rows faster than zlib compresses them keeps the
 * whole sheet's XML in memory after all: about 100 MB for 50,000 graduates of the 就业方案. A
 * caller that commits rows in batches awaits this between them, for the one sheet it has open (the
 * zip reads its entries one after another: a second open sheet would not be read until the first
 * ends). Where the sheet's stream is not shaped as exceljs 4 makes it, it returns at once.
 */
export async function compressed(sheet: ExcelJS.Worksheet): Promise<void> {
  const pipes = (sheet as unknown as { stream?: { pipes?: Backlogged[] } }).stream?.pipes;
  for (const pipe of Array.isArray(pipes) ? pipes : []) {
    // A stream that ended or failed is not waited on: its error reaches the workbook's commit.
    while ((backlogOf(pipe) ?? 0) > BACKLOG_BYTES && !pipe.destroyed && !pipe._writableState?.ended && typeof pipe.once === 'function') {
      await new Promise<void>((resolve) => {
        const done = () => {
          for (const event of ['drain', 'error', 'close'] as const) pipe.removeListener?.(event, done);
          resolve();
        };
        for (const event of ['drain', 'error', 'close'] as const) pipe.once!(event, done);
      });
    }
  }
}
