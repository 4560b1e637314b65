import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { silentLogger } from '../../db/log.ts';
import { createApp } from '../../routes/index.ts';
import { createPdfPrinter, pdfFontFaces, PRINT_ORIGIN, PrinterBusyError, type PdfPrinter } from '../../views/pdf.ts';
import { Client } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

// The printer against the bundled Chromium, and the 网签授权书 download (E2) through the app.
const chromiumPath = loadConfig().chromiumPath;
const blocked: string[] = [];
const printer = createPdfPrinter({ chromiumPath, log: silentLogger, onBlockedRequest: (url) => blocked.push(url) });
let database: TestDatabase | undefined;

test.after(async () => {
  await printer.close();
  await database?.drop();
});

const page = (body: string, head = '') =>
  `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">${head}` +
  `<style>${pdfFontFaces()} body { font-family: 'Noto Serif SC', serif; }</style></head><body>${body}</body></html>`;

const latin1 = (pdf: Uint8Array) => Buffer.from(pdf).toString('latin1');

/** The characters the PDF draws, read from the ToUnicode maps of its fonts. */
function drawnCharacters(pdf: Uint8Array): Set<string> {
  const bytes = Buffer.from(pdf);
  const text = bytes.toString('latin1');
  const utf16 = (hex: string) => String.fromCharCode(...(hex.match(/.{4}/g) ?? []).map((h) => Number.parseInt(h, 16)));
  const chars = new Set<string>();
  for (const start of text.matchAll(/stream\r?\n/g)) {
    const from = start.index + start[0].length;
    let cmap: string;
    try {
      cmap = inflateSync(bytes.subarray(from, text.indexOf('endstream', from))).toString('latin1');
    } catch {
      continue; // not a Flate stream (an image, a font program)
    }
    for (const [, section = ''] of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
      for (const [, , to = ''] of section.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) for (const c of utf16(to)) chars.add(c);
    }
    for (const [, section = ''] of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
      for (const [, lo = '', hi = '', to = ''] of section.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) {
        for (let i = 0; i <= Number.parseInt(hi, 16) - Number.parseInt(lo, 16); i++) chars.add(String.fromCodePoint(Number.parseInt(to, 16) + i));
      }
    }
  }
  return chars;
}

const draws = (pdf: Uint8Array, text: string) => [...text].every((c) => drawnCharacters(pdf).has(c));

/** Processes (zombies included) in Chromium's process group, which puppeteer makes it the leader of. */
function processGroup(leader: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === leader;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/** Waits for the condition itself; the bound is only a failsafe against a hang, far past any machine's pace. */
async function eventually(check: () => boolean, ms = 120_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return true;
  return check();
}

test('print: a Chinese page becomes a PDF drawn in an embedded Noto Serif SC subset', async () => {
  const pdf = await printer.print(page('<h1>网签授权书</h1><p>全国高校毕业生网上签约与毕业去向登记平台</p>', '<title>网签授权书</title>'));
  assert.is(latin1(pdf.subarray(0, 5)), '%PDF-');
  const fonts = [...latin1(pdf).matchAll(/\/BaseFont\s*\/([^\s/<>[\]]+)/g)].map((m) => m[1]!);
  assert.ok(fonts.length > 0 && fonts.every((f) => /^[A-Z]{6}\+NotoSerifSC/.test(f)), `fonts: ${fonts.join(' ')}`);
  assert.ok(draws(pdf, '网签授权书全国高校毕业生网上签约与毕业去向登记平台'), 'every character is drawn with a glyph of its own');
});

test('print: the page\'s JavaScript does not run — it neither writes text, retitles the page nor makes a request', async () => {
  const pdf = await printer.print(
    page(
      '<p>静态正文</p><script>document.body.insertAdjacentHTML("beforeend", "<p>脚本写入</p>"); document.title = "script ran"; new Image().src = "https://example.com/from-script.png"</script>',
      '<title>static title</title>',
    ),
  );
  assert.ok(draws(pdf, '静态正文'));
  assert.not.ok([...'脚本写入'].some((c) => drawnCharacters(pdf).has(c)));
  assert.ok(latin1(pdf).includes('/Title (static title)'), 'the title is the static one');
  assert.not.ok(blocked.some((url) => url.includes('from-script')));
});

test('print: every request other than the document and its listed fonts is aborted', async () => {
  blocked.length = 0;
  const pdf = await printer.print(
    page(
      '<p>外部资源</p><img src="https://example.com/x.png" alt=""><img src="/logo.png" alt="">',
      '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><link rel="stylesheet" href="/fonts/not-a-font.css">',
    ),
  );
  assert.ok(draws(pdf, '外部资源'), 'the listed font subsets were served');
  for (const url of ['https://example.com/x.png', 'http://127.0.0.1:9/x.css', `${PRINT_ORIGIN}/logo.png`, `${PRINT_ORIGIN}/fonts/not-a-font.css`]) {
    assert.ok(blocked.includes(url), `${url} was refused (refused: ${blocked.join(', ')})`);
  }
  assert.not.ok(blocked.some((url) => url.includes('.woff2')), 'no listed font was refused');
});

test('print: a document printed on a warm page (its content replaced in place) keeps nothing of the one before, and gets the font subsets of its own characters', async () => {
  const first = await printer.print(page('<p>甲方旧内容</p>', '<title>first document</title>'));
  assert.ok(draws(first, '甲方旧内容'));
  // Characters of other subsets than any earlier document used, so their font files are fetched now.
  const second = await printer.print(page('<h1>龘鬱犇骉鱻</h1><p>乙方</p>', '<title>second document</title>'));
  assert.ok(draws(second, '龘鬱犇骉鱻乙方'), 'the new subsets were loaded before printing');
  assert.not.ok([...'甲旧内容'].some((c) => drawnCharacters(second).has(c)), 'nothing of the earlier document');
  assert.ok(latin1(second).includes('/Title (second document)'));
  assert.not.ok(latin1(second).includes('first document'));
});

test('print: six prints at once share the two warm pages, and each gets its own document', async () => {
  const prints = [1, 2, 3, 4, 5, 6].map((n) => printer.print(page(`<p>第${n}份</p>`)));
  assert.equal({ busy: printer.status().busyPages, waiting: printer.status().waiting }, { busy: 2, waiting: 4 });
  const pdfs = await Promise.all(prints);
  pdfs.forEach((pdf, i) => {
    assert.is(latin1(pdf.subarray(0, 5)), '%PDF-');
    const digits = [...drawnCharacters(pdf)].filter((c) => /\d/.test(c));
    assert.equal(digits, [String(i + 1)], `print ${i + 1} drew its own number`);
  });
  const { busyPages, warmPages, waiting } = printer.status();
  assert.equal({ busyPages, warmPages, waiting }, { busyPages: 0, warmPages: 2, waiting: 0 });
});

test('print: the browser is replaced after `recycleAfter` documents, and the old one exits', async () => {
  const recycling = createPdfPrinter({ chromiumPath, log: silentLogger, recycleAfter: 2 });
  try {
    await recycling.print(page('<p>一</p>'));
    const first = recycling.status().browserPid!;
    await recycling.print(page('<p>二</p>'));
    await recycling.print(page('<p>三</p>'));
    const second = recycling.status().browserPid!;
    assert.ok(first > 0 && second > 0 && first !== second, `${first} → ${second}`);
    assert.is(recycling.status().documentsOnBrowser, 1);
    assert.ok(await eventually(() => processGroup(first).length === 0), `the first browser's processes are gone: ${processGroup(first)}`);
  } finally {
    await recycling.close();
  }
});

test('print: a browser idle for `idleCloseMs` is closed, its processes exit, and the next print starts another (issue 14: memory at rest)', async () => {
  const idle = createPdfPrinter({ chromiumPath, log: silentLogger, idleCloseMs: 200 });
  try {
    await idle.print(page('<p>一</p>'));
    const first = idle.status().browserPid!;
    assert.ok(first > 0);
    assert.ok(await eventually(() => idle.status().browserPid === null && processGroup(first).length === 0), `the idle browser is gone: ${processGroup(first)}`);
    const pdf = await idle.print(page('<p>二</p>'));
    assert.ok(pdf.length > 1000);
    const second = idle.status().browserPid!;
    assert.ok(second > 0 && second !== first, `${first} → ${second}`);
  } finally {
    await idle.close();
  }
});

test('print: a print in flight when the browser crashes is retried once on a fresh browser', async () => {
  let crashed: number | undefined;
  const crashing: PdfPrinter = createPdfPrinter({
    chromiumPath,
    log: silentLogger,
    onBlockedRequest: (url) => {
      if (!url.endsWith('/crash-here.png') || crashed !== undefined) return;
      crashed = crashing.status().browserPid!;
      process.kill(-crashed, 'SIGKILL'); // the whole browser, mid-document
    },
  });
  try {
    const pdf = await crashing.print(page('<p>崩溃后重试</p><img src="https://example.com/crash-here.png" alt="">'));
    assert.ok(crashed !== undefined, 'the browser was killed during the print');
    assert.ok(draws(pdf, '崩溃后重试'));
    const fresh = crashing.status().browserPid!;
    assert.ok(fresh > 0 && fresh !== crashed, `${crashed} → ${fresh}`);
    assert.ok(await eventually(() => !existsSync(`/proc/${crashed}`)), 'the crashed browser was reaped');
  } finally {
    await crashing.close();
  }
});

test('print: a print past its deadline rejects, and neither it nor the one queued behind it keeps a page', async () => {
  // A deadline far below what the page takes on any machine (it takes seconds): no race with the
  // machine's speed, and no clock in the assertions.
  const slow = createPdfPrinter({ chromiumPath, log: silentLogger, pages: 1, timeoutMs: 300 });
  try {
    const huge = page('<p>全国高校毕业生网上签约与毕业去向登记平台</p>'.repeat(30_000));
    const outcomes = await Promise.allSettled([slow.print(huge), slow.print(page('<p>排队</p>'))]);
    for (const outcome of outcomes) {
      assert.is(outcome.status, 'rejected');
      assert.match(String((outcome as PromiseRejectedResult).reason), 'PDF printing took longer than 300 ms');
    }
    assert.ok(await eventually(() => slow.status().busyPages === 0), 'the page was given up');
    assert.equal({ warmPages: slow.status().warmPages, waiting: slow.status().waiting }, { warmPages: 0, waiting: 0 });
  } finally {
    await slow.close();
  }
});

test('print: the app runs without Chromium; printing then fails with the reason, every time', async () => {
  const missing = createPdfPrinter({ chromiumPath: '/nonexistent/chromium', log: silentLogger });
  for (let attempt = 0; attempt < 2; attempt++) {
    const err = await missing.print(page('<p>无</p>')).then(() => undefined, (e: unknown) => e);
    assert.match(String(err), 'CHROMIUM_PATH="/nonexistent/chromium"');
  }
  await missing.close();
  assert.is(missing.status().browserPid, null);
});

test('close: no Chromium process is left behind, and later prints are refused', async () => {
  const closing = createPdfPrinter({ chromiumPath, log: silentLogger });
  await closing.print(page('<p>关闭</p>'));
  const pid = closing.status().browserPid!;
  assert.ok(processGroup(pid).length > 0);
  await closing.close();
  // A child the browser did not reap is reaped by init here, which can take a few seconds.
  assert.ok(await eventually(() => processGroup(pid).length === 0), `no process (not even a zombie) of the browser remains: ${processGroup(pid).join(', ')}`);
  assert.not.ok(existsSync(`/proc/${pid}`));
  const err = await closing.print(page('<p>关闭</p>')).then(() => undefined, (e: unknown) => e);
  assert.match(String(err), 'closed');
});

test('E2 网签授权书: a signed-in employer that is not yet verified downloads it as a PDF, prefilled with its unit and phone', async () => {
  database = await freshDatabase();
  const config = loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' });
  const app = createApp({ config, db: database.db, log: silentLogger, pdf: printer });
  const anonymous = await new Client(app).get('/employer/authorization-letter.pdf');
  assert.is(anonymous.status, 303);
  assert.is(anonymous.location, `/employer/login?next=${encodeURIComponent('/employer/authorization-letter.pdf')}`);

  const employer = new Client(app);
  assert.is((await employer.post('/employer/login', { login: '13800000009', password: DEMO_PASSWORDS.employer })).status, 303);
  const cookie = [...employer.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const res = await app.request('/employer/authorization-letter.pdf', { headers: { cookie } });
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'application/pdf');
  assert.is(res.headers.get('content-disposition'), `attachment; filename="authorization-letter.pdf"; filename*=UTF-8''${encodeURIComponent('网签授权书.pdf')}`);
  assert.is(res.headers.get('cache-control'), 'no-store');
  const pdf = new Uint8Array(await res.arrayBuffer());
  assert.is(latin1(pdf.subarray(0, 5)), '%PDF-');
  assert.ok(draws(pdf, '网签授权书单位名称统一社会信用代码被授权人姓名手机号职务授权期限盖章法定代表人或负责人签字日期年月'));
  assert.ok(draws(pdf, '鹏城贸易有限公司13800000009'), 'prefilled with the unit name and the phone');
});

test('print queue is bounded (issue 14, goal 3): past the waiting limit a print is refused at once, and the route answers 503 with Retry-After', async () => {
  const small = createPdfPrinter({ chromiumPath, log: silentLogger, pages: 1, maxWaiting: 1 });
  try {
    const app = createApp({ config: loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' }), db: database!.db, log: silentLogger, pdf: small });
    const employer = new Client(app);
    assert.is((await employer.post('/employer/login', { login: '13800000009', password: DEMO_PASSWORDS.employer })).status, 303);
    const cookie = [...employer.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    // One print holds the page (a long document: far longer than the two refusals below take) and
    // one waits: the queue is full.
    const long = page('<p>全国高校毕业生网上签约与毕业去向登记平台</p>'.repeat(3_000));
    const held = [small.print(long), small.print(page('<p>排队</p>'))];
    assert.equal({ busy: small.status().busyPages, waiting: small.status().waiting }, { busy: 1, waiting: 1 });
    let refused: unknown;
    await small.print(page('<p>第三份</p>')).catch((e) => (refused = e));
    assert.instance(refused, PrinterBusyError);
    const busy = await app.request('/employer/authorization-letter.pdf', { headers: { cookie } });
    assert.is(busy.status, 503);
    assert.is(busy.headers.get('retry-after'), '5');
    assert.match(await busy.text(), '请稍等几秒后再下载');
    const done = await Promise.allSettled(held);
    assert.equal(done.map((o) => o.status), ['fulfilled', 'fulfilled'], 'the prints already queued still print');
    assert.is((await app.request('/employer/authorization-letter.pdf', { headers: { cookie } })).status, 200, 'and the queue takes prints again');
  } finally {
    await small.close();
  }
});

test.run();
