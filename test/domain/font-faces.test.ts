import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pdfFontFaces, printable } from '../../views/pdf.ts';

// Issue 14, goal 4: a printed document carries only the @font-face rules of the characters it holds
// (all of them were 186 KB of every print's HTML); Chromium still loads only the subsets it lays out.
const rules = (css: string) => css.split('\n').filter(Boolean);
const ranges = (css: string) => rules(css).map((r) => /unicode-range:([^}]+)\}/.exec(r)![1]!);

test('issue 14: the rules kept are those whose unicode-range holds a character of the text, in both weights', () => {
  const all = rules(pdfFontFaces());
  const some = rules(pdfFontFaces('就业协议书 2026'));
  assert.ok(all.length > 100, `${all.length} rules in all`);
  assert.ok(some.length >= 2 && some.length < 20, `${some.length} rules for the text`);
  assert.ok(some.some((r) => r.includes('font-weight:400')) && some.some((r) => r.includes('font-weight:700')));
  // Every character has a rule kept that covers it.
  for (const ch of '就业协议书2') {
    const cp = ch.codePointAt(0)!;
    const covers = (range: string) =>
      range.split(',').some((part) => {
        const [lo, hi = lo] = part.trim().replace(/^U\+/i, '').split('-').map((x) => parseInt(x!.replaceAll('?', '0'), 16));
        return cp >= lo! && cp <= hi!;
      });
    assert.ok(ranges(some.join('\n')).some(covers), ch);
  }
  assert.equal(rules(pdfFontFaces('')), []);
});

test('issue 14: printable() fills the template with the rules of its own text', () => {
  const views = { render: (_view: string, data: object) => `<style>${(data as { fontFaces: string }).fontFaces}</style><p>甲方乙方</p>` };
  const html = printable(views, 'any', {});
  assert.not.match(html, '/*@font-faces*/');
  assert.ok(html.length * 5 < pdfFontFaces().length, `${html.length} characters against ${pdfFontFaces().length} for every rule`);
  assert.match(html, "font-family:'Noto Serif SC'");
});

test.run();
