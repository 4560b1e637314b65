import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ExcelJS from 'exceljs';
import { compressed, streamedWorkbook } from '../../domain/spreadsheets/streamed-workbook.ts';

// Issue 14 (the bench's 导出就业方案 at 50,000 graduates peaked at 326–390 MB against 300): exceljs'
// streaming writer hands a sheet's XML to the zip without waiting for it to be compressed, so rows
// committed in a loop piled up uncompressed. `compressed` is awaited between batches.
const backlog = (sheet: ExcelJS.Worksheet) => {
  const pipe = (sheet as unknown as { stream: { pipes: Array<{ writableLength?: number; _writableState?: { length: number } }> } }).stream.pipes[0]!;
  return pipe.writableLength ?? pipe._writableState!.length;
};

test('issue 14: a sheet written in batches holds at most about a batch uncompressed, and the file reads back whole', async () => {
  const { workbook, bytes } = streamedWorkbook();
  const sheet = workbook.addWorksheet('Sheet1');
  const row = (i: number) => [`${i}`, `毕业生${i}`, '110105200401010011', '北京市海淀区某某科技有限公司'.repeat(3), 'x'.repeat(200)];
  let most = 0;
  for (let batch = 0; batch < 10; batch++) {
    for (let i = 0; i < 2000; i++) sheet.addRow(row(batch * 2000 + i)).commit();
    // One batch is about 1.3 MB of XML: without the wait ten of them were all held.
    await compressed(sheet);
    most = Math.max(most, backlog(sheet));
  }
  assert.ok(most <= 1024 * 1024, `${most} bytes waited to be compressed after a batch`);
  sheet.commit();
  await workbook.commit();
  const read = new ExcelJS.Workbook();
  await read.xlsx.load((await bytes) as unknown as ArrayBuffer);
  const back = read.getWorksheet('Sheet1')!;
  assert.is(back.rowCount, 20_000);
  assert.is(back.getRow(20_000).getCell(2).value, '毕业生19999');
});

test.run();
