// Code tables from the Ministry's data structure (see /work/shared/reference/codes.md).

type Table = Readonly<Record<string, string>>;

export type CodeOption<T extends Table> = { readonly code: keyof T & string; readonly label: T[keyof T] };

// Integer-like keys ('10', '21') enumerate before the others ('01') in JS objects, so the
// documented order is restored by sorting the code strings.
function optionsOf<T extends Table>(table: T): readonly CodeOption<T>[] {
  return (Object.keys(table) as (keyof T & string)[]).sort().map((code) => ({ code, label: table[code] as T[keyof T] }));
}

export function isCode<T extends Table>(table: T, value: unknown): value is keyof T {
  return typeof value === 'string' && Object.hasOwn(table, value);
}

export function labelOf(table: Table, code: string): string {
  return isCode(table, code) ? (table[code] as string) : code;
}

export const TRAINING_MODES = {
  '1': '非定向',
  '21': '定向（不可网签）',
  '22': '定向（可网签）',
  '3': '在职',
  '41': '委培（不可网签）',
  '42': '委培（可网签）',
  '5': '自筹',
} as const;
export type TrainingMode = keyof typeof TRAINING_MODES;
export const TRAINING_MODE_OPTIONS = optionsOf(TRAINING_MODES);

// These students may only file 定向/委培毕业去向补充登记, never sign online.
export const NOT_SIGNABLE_TRAINING_MODES = ['21', '41'] as const satisfies readonly TrainingMode[];

export function isSignableTrainingMode(code: string): boolean {
  return isCode(TRAINING_MODES, code) && !(NOT_SIGNABLE_TRAINING_MODES as readonly string[]).includes(code);
}

export const EDUCATION_LEVELS = {
  '01': '博士生毕业',
  '11': '硕士生毕业',
  '31': '本科生毕业',
  // 41 is inferred from the roster/UI, not seen in a code list.
  '41': '专科生毕业',
} as const;
export type EducationLevel = keyof typeof EDUCATION_LEVELS;
export const EDUCATION_LEVEL_OPTIONS = optionsOf(EDUCATION_LEVELS);

export const EDUCATION_LEVEL_SHORT = {
  '01': '博士',
  '11': '硕士',
  '31': '本科',
  '41': '专科',
} as const satisfies Record<EducationLevel, string>;

// GB/T 4762
export const POLITICAL_STATUSES = {
  '01': '中国共产党党员',
  '02': '中国共产党预备党员',
  '03': '中国共产主义青年团团员',
  '04': '中国国民党革命委员会会员',
  '05': '中国民主同盟盟员',
  '06': '中国民主建国会会员',
  '07': '中国民主促进会会员',
  '08': '中国农工民主党党员',
  '09': '中国致公党党员',
  '10': '九三学社社员',
  '11': '台湾民主自治同盟盟员',
  '12': '无党派民主人士',
  '13': '群众',
} as const;
export type PoliticalStatus = keyof typeof POLITICAL_STATUSES;
export const POLITICAL_STATUS_OPTIONS = optionsOf(POLITICAL_STATUSES);

// GB 3304
export const ETHNICITIES = {
  '01': '汉族',
  '02': '蒙古族',
  '03': '回族',
  '04': '藏族',
  '05': '维吾尔族',
  '06': '苗族',
  '07': '彝族',
  '08': '壮族',
  '09': '布依族',
  '10': '朝鲜族',
  '11': '满族',
  '12': '侗族',
  '13': '瑶族',
  '14': '白族',
  '15': '土家族',
  '16': '哈尼族',
  '17': '哈萨克族',
  '18': '傣族',
  '19': '黎族',
  '20': '傈僳族',
  '21': '佤族',
  '22': '畲族',
  '23': '高山族',
  '24': '拉祜族',
  '25': '水族',
  '26': '东乡族',
  '27': '纳西族',
  '28': '景颇族',
  '29': '柯尔克孜族',
  '30': '土族',
  '31': '达斡尔族',
  '32': '仫佬族',
  '33': '羌族',
  '34': '布朗族',
  '35': '撒拉族',
  '36': '毛南族',
  '37': '仡佬族',
  '38': '锡伯族',
  '39': '阿昌族',
  '40': '普米族',
  '41': '塔吉克族',
  '42': '怒族',
  '43': '乌孜别克族',
  '44': '俄罗斯族',
  '45': '鄂温克族',
  '46': '德昂族',
  '47': '保安族',
  '48': '裕固族',
  '49': '京族',
  '50': '塔塔尔族',
  '51': '独龙族',
  '52': '鄂伦春族',
  '53': '赫哲族',
  '54': '门巴族',
  '55': '珞巴族',
  '56': '基诺族',
  '97': '其他',
  '98': '外国血统中国籍人士',
} as const;
export type Ethnicity = keyof typeof ETHNICITIES;
export const ETHNICITY_OPTIONS = optionsOf(ETHNICITIES);

// GB/T 2261.1
export const SEXES = {
  '1': '男',
  '2': '女',
} as const;
export type Sex = keyof typeof SEXES;
export const SEX_OPTIONS = optionsOf(SEXES);

export const EMPLOYER_TYPES = {
  '10': '机关',
  '20': '科研设计单位',
  '21': '高等教育单位',
  '22': '中初教育单位',
  '23': '医疗卫生单位',
  '29': '其他事业单位',
  '31': '国有企业',
  '32': '三资企业',
  // Spelled out because the employer guide files 民营企业 here.
  '39': '其他企业（如民营企业、集体企业、个体工商户等）',
  '40': '部队',
  '55': '农村建制村',
  '56': '城镇社区',
  '99': '其他',
} as const;
export type EmployerType = keyof typeof EMPLOYER_TYPES;
export const EMPLOYER_TYPE_OPTIONS = optionsOf(EMPLOYER_TYPES);

// Numeric codes from one provincial source; the GB/T 4754-2017 section letter is noted per line.
export const INDUSTRIES = {
  '11': '农、林、牧、渔业', // A
  '21': '采矿业', // B
  '22': '制造业', // C
  '23': '电力、热力、燃气及水生产和供应业', // D
  '24': '建筑业', // E
  '31': '批发和零售业', // F
  '32': '交通运输、仓储和邮政业', // G
  '33': '住宿和餐饮业', // H
  '34': '信息传输、软件和信息技术服务业', // I
  '35': '金融业', // J
  '36': '房地产业', // K
  '37': '租赁和商务服务业', // L
  '38': '科学研究和技术服务业', // M
  '39': '水利、环境和公共设施管理业', // N
  '41': '居民服务、修理和其他服务业', // O
  '42': '教育', // P
  '43': '卫生和社会工作', // Q
  '44': '文化、体育和娱乐业', // R
  '45': '公共管理、社会保障和社会组织', // S
  '46': '国际组织', // T
  '80': '军队',
} as const;
export type Industry = keyof typeof INDUSTRIES;
export const INDUSTRY_OPTIONS = optionsOf(INDUSTRIES);

// Sources disagree on a few of these codes.
export const POSITION_CATEGORIES = {
  '10': '公务员',
  '11': '科学研究人员',
  '13': '工程技术人员',
  '17': '农林牧渔业技术人员',
  '19': '卫生专业技术人员',
  '21': '经济业务人员',
  '22': '金融业务人员',
  '23': '法律专业人员',
  '24': '教学人员',
  '25': '文学艺术工作人员',
  '26': '体育工作人员',
  '27': '新闻出版和文化工作人员',
  '29': '其他专业技术人员',
  '30': '办事人员和有关人员',
  '40': '商业和服务业人员',
  '60': '生产和运输设备操作人员',
  '80': '军人',
  '90': '其他人员',
} as const;
export type PositionCategory = keyof typeof POSITION_CATEGORIES;
export const POSITION_CATEGORY_OPTIONS = optionsOf(POSITION_CATEGORIES);

export const DESTINATIONS = {
  '10': '签就业协议形式就业',
  '11': '签劳动合同形式就业',
  '12': '其他录用形式就业',
  '27': '科研助理、管理助理',
  '46': '应征义务兵',
  '50': '国家基层项目',
  '51': '地方基层项目',
  '70': '待就业',
  '71': '不就业拟升学',
  '72': '其他暂不就业',
  '75': '自主创业',
  '76': '自由职业',
  '80': '升学',
  '85': '出国、出境',
} as const;
export type Destination = keyof typeof DESTINATIONS;
export const DESTINATION_OPTIONS = optionsOf(DESTINATIONS);
