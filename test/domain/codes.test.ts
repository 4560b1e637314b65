import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { idNumberCheckDigit, makeIdNumber, maskIdNumber, parseIdNumber } from '../../domain/codes/id-number.ts';
import { checkUscc, makeUscc, usccCheckChar } from '../../domain/codes/uscc.ts';
import {
  ETHNICITIES,
  ETHNICITY_OPTIONS,
  EDUCATION_LEVEL_SHORT,
  EMPLOYER_TYPES,
  TRAINING_MODE_OPTIONS,
  TRAINING_MODES,
  isCode,
  isSignableTrainingMode,
  labelOf,
} from '../../domain/codes/tables.ts';

test('ID check digit: GB 11643 example passes', () => {
  assert.is(idNumberCheckDigit('11010519491231002'), 'X');
  assert.equal(parseIdNumber('11010519491231002X'), { ok: true, birthDate: '1949-12-31', sex: '2' });
});

test('ID check digit: 1880 example has a valid check digit but is refused as born before 1900', () => {
  assert.is(idNumberCheckDigit('44052418800101001'), '4');
  const result = parseIdNumber('440524188001010014');
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.reason, '1900');
});

test('ID check digit: lowercase x is accepted', () => {
  assert.equal(parseIdNumber('11010519491231002x'), { ok: true, birthDate: '1949-12-31', sex: '2' });
});

test('ID check digit: wrong check digit is refused', () => {
  const result = parseIdNumber('110105194912310021');
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.reason, '校验位错误');
});

test('ID birth date: Feb 30 is refused as nonexistent', () => {
  const first17 = '11010519900230001';
  const result = parseIdNumber(first17 + idNumberCheckDigit(first17));
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.reason, '出生日期不存在');
});

test('ID birth date: a future date is refused', () => {
  const result = parseIdNumber(makeIdNumber('110105', '2999-01-01', 1, '1'));
  assert.is(result.ok, false);
  if (!result.ok) assert.match(result.reason, '晚于今天');
});

test('ID format: wrong length or letters are refused', () => {
  for (const bad of ['', '11010519491231002', '1101051949123100XX', '11010519491231002Y']) {
    const result = parseIdNumber(bad);
    assert.is(result.ok, false, bad);
    if (!result.ok) assert.match(result.reason, '格式不正确');
  }
});

test('ID masking: keeps first 6 and last 4', () => {
  assert.is(maskIdNumber('110105194912311234'), '110105********1234');
  assert.is(maskIdNumber('12345'), '*****');
});

test('makeIdNumber: round-trips for both sexes, fixing sequence parity', () => {
  const male = makeIdNumber('440305', '2001-02-28', 122, '1');
  assert.is(male.slice(14, 17), '123');
  assert.equal(parseIdNumber(male), { ok: true, birthDate: '2001-02-28', sex: '1' });
  const female = makeIdNumber('440305', '2000-02-29', 123, '2');
  assert.is(female.slice(14, 17), '122');
  assert.equal(parseIdNumber(female), { ok: true, birthDate: '2000-02-29', sex: '2' });
});

test('USCC: GB 32100 example passes', () => {
  assert.is(usccCheckChar('91350100M000100Y4'), '3');
  assert.equal(checkUscc('91350100M000100Y43'), { format: true, checkDigit: true });
});

test('USCC: wrong check character fails only the check', () => {
  assert.equal(checkUscc('91350100M000100Y44'), { format: true, checkDigit: false });
});

test('USCC: letters outside the alphabet or wrong length fail the format', () => {
  assert.equal(checkUscc('91350100M000100I43'), { format: false, checkDigit: false });
  assert.equal(checkUscc('91350100M000100Y4'), { format: false, checkDigit: false });
});

test('makeUscc: round-trips', () => {
  const code = makeUscc('91110108MA01ABCD0');
  assert.is(code.length, 18);
  assert.equal(checkUscc(code), { format: true, checkDigit: true });
});

test('tables: options keep the documented order', () => {
  assert.equal(
    TRAINING_MODE_OPTIONS.map((o) => o.code),
    ['1', '21', '22', '3', '41', '42', '5'],
  );
  assert.is(ETHNICITY_OPTIONS.length, 58);
  assert.equal(ETHNICITY_OPTIONS[0], { code: '01', label: '汉族' });
  assert.equal(ETHNICITY_OPTIONS.at(-1), { code: '98', label: '外国血统中国籍人士' });
});

test('tables: labelOf, isCode and signable training modes', () => {
  assert.is(labelOf(EMPLOYER_TYPES, '39'), '其他企业（如民营企业、集体企业、个体工商户等）');
  assert.is(labelOf(ETHNICITIES, '00'), '00');
  assert.is(labelOf(ETHNICITIES, 'toString'), 'toString');
  assert.is(EDUCATION_LEVEL_SHORT['11'], '硕士');
  assert.ok(isCode(TRAINING_MODES, '22'));
  assert.not.ok(isCode(TRAINING_MODES, '2'));
  assert.ok(isSignableTrainingMode('1'));
  assert.not.ok(isSignableTrainingMode('21'));
  assert.not.ok(isSignableTrainingMode('41'));
  assert.not.ok(isSignableTrainingMode('9'));
});

test.run();
