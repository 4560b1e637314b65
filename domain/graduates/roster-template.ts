import ExcelJS from 'exceljs';
import { EDUCATION_LEVELS, ETHNICITIES, POLITICAL_STATUSES, SEXES, TRAINING_MODES } from '../codes/tables.ts';
import { regionName } from '../codes/regions.ts';
import { CODE_ALIASES, S5_FIELDS } from './record.ts';

// 学生名单导入模板: sheet 1 is left empty below the headers so a school just fills it in; every
// explanation lives on sheet 2.
export const TEMPLATE_SHEET = '学生名单';
export const CODES_SHEET = '代码说明';

const CODE_COLUMNS: Array<{ header: string; table: Readonly<Record<string, string>>; aliases?: Record<string, string> }> = [
  { header: '性别', table: SEXES },
  { header: '民族', table: ETHNICITIES },
  { header: '政治面貌', table: POLITICAL_STATUSES, aliases: CODE_ALIASES.politicalStatus },
  { header: '学历层次', table: EDUCATION_LEVELS, aliases: CODE_ALIASES.educationLevel },
  { header: '培养方式', table: TRAINING_MODES },
];

const alsoAccepted = (aliases: Record<string, string> | undefined, code: string) => {
  const names = Object.keys(aliases ?? {}).filter((alias) => aliases![alias] === code);
  return names.length > 0 ? `也可填：${names.join('、')}` : '';
};

const GUIDANCE = [
  `必填列：${S5_FIELDS.filter((f) => f.required).map((f) => f.header).join('、')}；考生号、电子邮箱可不填。`,
  '表头可用中文列名，也可用就业管理系统的列代码（' + S5_FIELDS.map((f) => f.ministryCode).join(' ') + '）。',
  '可选列：专业代码（Zydm），放在任意位置。',
  '代码列（性别、民族、政治面貌、学历层次、培养方式）填代码或下表中的名称均可。',
  '毕业院校填本校名称或院校代码；身份证号末位的 X 大小写均可。',
  '出生日期填 YYYY-MM-DD 或 YYYYMMDD，须与身份证号一致；入学时间、毕业时间填 YYYY-MM。',
  `生源所在地填6位行政区划代码（GB/T 2260），例如 110105（${regionName('110105')}），也可填完整的省市区县名称，例如 ${regionName('110105')}。`,
  '手机号码为11位手机号，用于毕业生激活账号。',
  '同一届别中按身份证号更新：已在名单中的毕业生会被更新（手机号码、电子邮箱以毕业生本人填写的为准，不会被覆盖）。',
];

export async function buildRosterTemplate(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const roster = workbook.addWorksheet(TEMPLATE_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  roster.columns = S5_FIELDS.map((f) => ({
    header: f.header,
    // Text cells, so Excel keeps an ID number's 18 digits and a code's leading zero.
    style: { numFmt: '@' },
    width: f.key === 'idNumber' || f.key === 'examNo' ? 22 : f.key === 'email' ? 26 : 14,
  }));
  roster.getRow(1).font = { bold: true };

  const codes = workbook.addWorksheet(CODES_SHEET);
  codes.columns = [{ width: 14 }, { width: 10 }, { width: 40 }, { width: 20 }];
  codes.addRow(['填写说明']).font = { bold: true };
  for (const line of GUIDANCE) codes.addRow([line]);
  codes.addRow([]);
  codes.addRow(['字段', '代码', '名称', '备注']).font = { bold: true };
  for (const { header, table, aliases } of CODE_COLUMNS) {
    for (const code of Object.keys(table).sort()) {
      codes.addRow([header, code, table[code], alsoAccepted(aliases, code)]).getCell(2).numFmt = '@';
    }
  }
  codes.addRow(['生源所在地', '6位代码或名称', '行政区划代码（GB/T 2260），县级或地级均可；也可填完整名称（导入结果会列出每个名称识别成的代码）', `例如 110105 或 ${regionName('110105')}`]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
