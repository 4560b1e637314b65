// The printer behind every document we hand out as PDF (网签授权书, 就业协议书): a pooled headless
// Chromium, launched on the first print so that the app starts and runs without one.
//
// Isolation. A document is loaded by navigating a page to PRINT_ORIGIN/document and answering that
// request with the rendered HTML ourselves. The document thus has an origin of its own from which
// nothing else is served: root-relative URLs resolve there, fonts under /fonts/ are answered from
// @fontsource/noto-serif-sc, and every other request, to another host or another path of ours, is
// aborted. `.invalid` never resolves (RFC 2606) and Chromium's resolver is switched
// off too, so neither a slip here nor a preconnect/DNS prefetch hint reaches the network.
// The page's JavaScript is off.
//
// Pool. `pages` warm pages print at once (default 2, one per core of a small node); further prints
// queue for a free page. A browser is replaced after `recycleAfter` documents, so a long-lived
// renderer cannot grow without bound, and at once when it crashes; a print that the crash took
// down is retried once on the fresh browser. Every print settles within `timeoutMs`, and a page
// that failed or timed out is closed rather than returned to the pool.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, CDPSession, HTTPRequest, Page } from 'puppeteer-core';
import type { Logger } from '../db/log.ts';
import { launchChromium } from './chromium.ts';

export const PRINT_ORIGIN = 'https://print.wangqian.invalid';
const DOCUMENT_URL = `${PRINT_ORIGIN}/document`;
const FONT_PATH = '/fonts/';

const PRINTER_ARGS = [
  // Chromium's own resolver fails every name: the printer never needs one (see above).
  '--host-resolver-rules=MAP * ~NOTFOUND',
  // Renderers become the browser's own children and the GPU thread lives in it, so it reaps every
  // process it started before it exits: no orphans are left for init to reap (or not), and each
  // browser runs three processes fewer.
  '--no-zygote',
  '--in-process-gpu',
];
/** How long a browser may take to shut down cleanly before its process group is killed. */
const CLOSE_GRACE_MS = 5_000;

export type PdfFormat = 'A4';

export type PdfPrinter = {
  /** Prints a standalone HTML document (see pdfFontFaces) to PDF. */
  print(html: string, options?: { format?: PdfFormat }): Promise<Uint8Array>;
  /** For health checks and tests. */
  status(): PdfPrinterStatus;
  /** Closes every browser; prints still queued fail. */
  close(): Promise<void>;
};

export type PdfPrinterStatus = {
  /** The process id of the browser new prints go to, or null before the first print. */
  browserPid: number | null;
  documentsOnBrowser: number;
  busyPages: number;
  warmPages: number;
  waiting: number;
};

export type PdfPrinterOptions = {
  chromiumPath?: string | undefined;
  log: Logger;
  /** Documents a browser prints before it is replaced. */
  recycleAfter?: number;
  /** Warm pages, i.e. prints running at once. */
  pages?: number;
  /** The longest a print may take, queueing included. */
  timeoutMs?: number;
  /**
   * Prints that may wait for a page; one more is refused at once with {@link PrinterBusyError} (the
   * route answers 503 and asks to try again), so a burst of downloads cannot pile up behind the
   * pages and hold requests, memory and connections that the other pages need.
   */
  maxWaiting?: number;
  /** Called with the URL of every request the printer refused. */
  onBlockedRequest?: (url: string) => void;
  /**
   * A browser with nothing to print for this long is closed; the next print starts one again
   * (about a second). Chromium holds several hundred MB at rest, and most hours print nothing.
   */
  idleCloseMs?: number;
};

type PrintPage = {
  page: Page;
  /** The HTML to answer the next request for DOCUMENT_URL with; served once, then dropped. */
  html: string | undefined;
  /** Set once the page holds a printed document: the next one replaces its content in place. */
  session?: CDPSession;
  frameId?: string;
};

type PrintBrowser = {
  browser: Browser;
  pid: number | null;
  state: 'serving' | 'retiring' | 'closing' | 'crashed';
  idle: PrintPage[];
  busy: number;
  documents: number;
  forceClose?: NodeJS.Timeout;
  idleClose?: NodeJS.Timeout;
  shutdown?: Promise<void>;
};

/** Too many prints are already waiting: try again in a moment. */
export class PrinterBusyError extends Error {
  constructor(waiting: number) {
    super(`the PDF printer has ${waiting} prints waiting`);
    this.name = 'PrinterBusyError';
  }
}

/** A print failed because its browser went away underneath it (crash, OOM kill). */
class BrowserCrashedError extends Error {
  constructor(cause: unknown) {
    super('Chromium crashed while printing', { cause });
    this.name = 'BrowserCrashedError';
  }
}

export function createPdfPrinter(options: PdfPrinterOptions): PdfPrinter {
  const { chromiumPath, log, recycleAfter = 200, pages = 2, timeoutMs = 30_000, onBlockedRequest, idleCloseMs = 60_000, maxWaiting = 16 } = options;
  const slots = createSlots(pages);
  const browsers = new Set<PrintBrowser>();
  let current: Promise<PrintBrowser> | undefined;
  let serving: PrintBrowser | undefined;
  let closed = false;

  function print(html: string, { format = 'A4' }: { format?: PdfFormat } = {}): Promise<Uint8Array> {
    if (closed) return Promise.reject(new Error('the PDF printer is closed'));
    if (slots.inUse() >= pages && slots.waiting() >= maxWaiting) return Promise.reject(new PrinterBusyError(slots.waiting()));
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`PDF printing took longer than ${timeoutMs} ms`)), timeoutMs);
    const job = (async () => {
      await slots.acquire(deadline.signal);
      try {
        return await printWithRetry(html, format, deadline.signal);
      } finally {
        slots.release();
      }
    })();
    return settleBy(job, deadline.signal).finally(() => clearTimeout(timer));
  }

  async function printWithRetry(html: string, format: PdfFormat, signal: AbortSignal): Promise<Uint8Array> {
    try {
      return await printOnce(html, format, signal);
    } catch (err) {
      if (!(err instanceof BrowserCrashedError) || signal.aborted) throw err;
      log.warn('pdf: the browser crashed during a print; printing again on a fresh browser', { error: String(err.cause) });
      return await printOnce(html, format, signal);
    }
  }

  async function printOnce(html: string, format: PdfFormat, signal: AbortSignal): Promise<Uint8Array> {
    const host = await currentBrowser();
    signal.throwIfAborted();
    clearTimeout(host.idleClose);
    host.busy++;
    host.documents++;
    if (host.documents >= recycleAfter) retire(host);
    let printPage: PrintPage | undefined;
    let reusable = false;
    // Closing the page is what makes a stuck navigation or print give up.
    const closeOnDeadline = () => void printPage?.page.close().catch(() => {});
    signal.addEventListener('abort', closeOnDeadline, { once: true });
    try {
      printPage = host.idle.pop() ?? (await openPage(host));
      signal.throwIfAborted();
      await load(printPage, html);
      // load() has waited for the fonts already.
      const pdf = await printPage.page.pdf({ format, printBackground: true, preferCSSPageSize: true, timeout: 0, waitForFonts: false });
      reusable = true;
      return pdf;
    } catch (err) {
      if (host.state === 'crashed') throw new BrowserCrashedError(err);
      throw signal.aborted ? signal.reason : err;
    } finally {
      signal.removeEventListener('abort', closeOnDeadline);
      host.busy--;
      if (printPage) {
        printPage.html = undefined;
        if (reusable && host.state === 'serving') host.idle.push(printPage);
        else void printPage.page.close().catch(() => {});
      }
      if (host.state === 'retiring' && host.busy === 0) void shutDown(host);
      if (host.state === 'serving' && host.busy === 0) {
        clearTimeout(host.idleClose);
        host.idleClose = setTimeout(() => {
          if (host.state === 'serving' && host.busy === 0) retire(host, 'idle');
        }, idleCloseMs).unref();
      }
    }
  }

  /**
   * Puts the document in the page. The first document is navigated to; each later one replaces the
   * content of that same document (Page.setDocumentContent: a document.open/write/close), so the
   * fonts the earlier documents loaded are still in the renderer's memory cache and are not fetched
   * again, which was half of every print (issue 14, goal 4). Either way the print waits for the load
   * event (pictures) and for every font the document uses. A replacement that fails leaves the page
   * unusable (thrown, so the page is closed): a document is never printed over another's leftovers.
   */
  async function load(printPage: PrintPage, html: string): Promise<void> {
    if (printPage.session && printPage.frameId) {
      await printPage.session.send('Page.setDocumentContent', { frameId: printPage.frameId, html });
    } else {
      printPage.html = html;
      const response = await printPage.page.goto(DOCUMENT_URL, { waitUntil: 'load', timeout: 0 });
      if (!response?.ok()) throw new Error(`the print page did not load (${response?.status() ?? 'no response'})`);
      printPage.session = await printPage.page.createCDPSession();
      printPage.frameId = (await printPage.session.send('Page.getFrameTree')).frameTree.frame.id;
    }
    // The page's own scripts are off; this runs from the printer, as DevTools would.
    await printPage.page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const fonts = () => void document.fonts.ready.then(() => resolve());
          if (document.readyState === 'complete') fonts();
          else window.addEventListener('load', fonts, { once: true });
        }),
    );
  }

  function currentBrowser(): Promise<PrintBrowser> {
    if (closed) return Promise.reject(new Error('the PDF printer is closed'));
    current ??= launch().catch((err: unknown) => {
      current = undefined; // the next print tries again
      throw err;
    });
    return current;
  }

  async function launch(): Promise<PrintBrowser> {
    const started = performance.now();
    const browser = await launchChromium(chromiumPath, { args: PRINTER_ARGS });
    const host: PrintBrowser = { browser, pid: browser.process()?.pid ?? null, state: 'serving', idle: [], busy: 0, documents: 0 };
    browsers.add(host);
    serving = host;
    browser.on('disconnected', () => {
      if (host.state === 'closing') return;
      log.error('pdf: the browser crashed', { pid: host.pid, documents: host.documents });
      if (serving === host) {
        serving = undefined;
        current = undefined;
      }
      host.state = 'crashed';
      void shutDown(host);
    });
    log.info('pdf: browser started', { pid: host.pid, ms: Math.round(performance.now() - started) });
    return host;
  }

  async function openPage(host: PrintBrowser): Promise<PrintPage> {
    const page = await host.browser.newPage();
    const printPage: PrintPage = { page, html: undefined };
    try {
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
    } catch (err) {
      void page.close().catch(() => {});
      throw err;
    }
    page.on('request', (request) => {
      answer(request, printPage).catch((err: unknown) => log.debug('pdf: could not answer a request', { url: request.url(), error: String(err) }));
    });
    return printPage;
  }

  async function answer(request: HTTPRequest, printPage: PrintPage): Promise<void> {
    const url = request.url();
    if (url === DOCUMENT_URL && printPage.html !== undefined) {
      const body = printPage.html;
      printPage.html = undefined; // a frame or refresh pointing back at the document gets nothing
      return request.respond({ status: 200, contentType: 'text/html; charset=utf-8', body });
    }
    const font = url.startsWith(PRINT_ORIGIN + FONT_PATH) ? await fontFile(url.slice(PRINT_ORIGIN.length + FONT_PATH.length)) : undefined;
    // Fixed URLs per installed font package: Chromium may keep them between prints (half the print time).
    if (font) return request.respond({ status: 200, contentType: 'font/woff2', body: font, headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } });
    // The browser's own request for the origin's icon (Debian's Chromium makes it; the document did
    // not ask): answered empty, as no document resource.
    if (url === `${PRINT_ORIGIN}/favicon.ico`) return request.respond({ status: 204, body: '' });
    onBlockedRequest?.(url);
    return request.abort('blockedbyclient');
  }

  /** Takes the browser out of service: it finishes the prints it has, then closes. */
  function retire(host: PrintBrowser, why: 'recycled' | 'idle' = 'recycled'): void {
    if (host.state !== 'serving') return;
    clearTimeout(host.idleClose);
    host.state = 'retiring';
    if (serving === host) {
      serving = undefined;
      current = undefined;
    }
    if (why === 'idle') log.info('pdf: closing the idle browser', { pid: host.pid, documents: host.documents, idleMs: idleCloseMs });
    else log.info('pdf: recycling the browser', { pid: host.pid, documents: host.documents });
    if (host.busy === 0) void shutDown(host);
    // Its prints are past their deadline by then, even if a page never let go.
    else host.forceClose = setTimeout(() => void shutDown(host), timeoutMs).unref();
  }

  function shutDown(host: PrintBrowser): Promise<void> {
    host.shutdown ??= (async () => {
      clearTimeout(host.forceClose);
      if (host.state !== 'crashed') host.state = 'closing';
      const closedInTime = await Promise.race([
        host.browser.close().then(
          () => true,
          () => false,
        ),
        sleep(CLOSE_GRACE_MS, false, { ref: false }),
      ]);
      if (!closedInTime) await killProcessGroup(host);
      browsers.delete(host);
    })();
    return host.shutdown;
  }

  async function killProcessGroup(host: PrintBrowser): Promise<void> {
    const child = host.browser.process();
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    try {
      process.kill(-child.pid, 'SIGKILL'); // puppeteer starts Chromium as the leader of its own group
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }

  return {
    print,
    status: () => ({
      browserPid: serving?.pid ?? null,
      documentsOnBrowser: serving?.documents ?? 0,
      busyPages: slots.inUse(),
      warmPages: serving?.idle.length ?? 0,
      waiting: slots.waiting(),
    }),
    async close() {
      closed = true;
      await current?.catch(() => undefined); // a launch under way finishes, then closes with the rest
      current = undefined;
      serving = undefined;
      await Promise.all([...browsers].map(shutDown));
    },
  };
}

/** A counting semaphore whose waiters give up when their deadline passes. */
function createSlots(size: number) {
  let free = size;
  const waiters: Array<() => void> = [];
  return {
    async acquire(signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', giveUp);
          resolve();
        };
        const giveUp = () => {
          waiters.splice(waiters.indexOf(grant), 1);
          reject(signal.reason);
        };
        waiters.push(grant);
        signal.addEventListener('abort', giveUp, { once: true });
      });
    },
    release(): void {
      const next = waiters.shift();
      if (next) next();
      else free++;
    },
    inUse: () => size - free,
    waiting: () => waiters.length,
  };
}

/** The work's outcome, or the signal's reason if that comes first (the work still runs to its end). */
function settleBy<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// ---------------------------------------------------------------------------------------------
// Noto Serif SC, served from PRINT_ORIGIN/fonts/

const FONT_PACKAGE_DIR = dirname(fileURLToPath(import.meta.resolve('@fontsource/noto-serif-sc/package.json')));
const FONT_WEIGHTS = [400, 700] as const;

/** Each rule with its unicode-range as [first, last] code point intervals. */
type FontFaces = { css: string; rules: Array<{ css: string; ranges: Array<[number, number]> }>; files: Map<string, string>; byCodePoint: Map<number, readonly number[]> };
let fontFaces: FontFaces | undefined;
const fontBytes = new Map<string, Promise<Buffer>>();

/**
 * The @font-face rules a printable template puts in its <style>: Noto Serif SC 400 and 700, one
 * rule per subset of fontsource's CSS with its unicode-range, so a document loads only the subsets
 * its characters need (a few hundred KB instead of 9 MB). `font-display: block`: a PDF must never
 * be printed in a fallback font. Only subsets whose file exists are listed. Given the document's
 * text, only the rules of subsets it uses (issue 14: all ~200 rules were 186 KB of every print's HTML).
 */
export function pdfFontFaces(text?: string): string {
  const faces = loadFontFaces();
  if (text === undefined) return faces.css;
  const seen = new Set<number>();
  const wanted = new Uint8Array(faces.rules.length);
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (seen.has(cp)) continue;
    seen.add(cp);
    for (const rule of rulesOf(faces, cp)) wanted[rule] = 1;
  }
  return faces.rules
    .filter((_, i) => wanted[i])
    .map((r) => r.css)
    .join('\n');
}

/** The rules whose unicode-range holds a code point, found once per code point (a document's characters recur in the next). */
function rulesOf(faces: FontFaces, cp: number): readonly number[] {
  let found = faces.byCodePoint.get(cp);
  if (!found) {
    const rules: number[] = [];
    faces.rules.forEach((r, i) => {
      if (r.ranges.some(([lo, hi]) => cp >= lo && cp <= hi)) rules.push(i);
    });
    found = rules.length ? rules : NO_RULES;
    // Names and reasons may hold any character: the memo stays bounded (CJK text uses a few thousand).
    if (faces.byCodePoint.size >= MAX_MEMO_CODE_POINTS) faces.byCodePoint.clear();
    faces.byCodePoint.set(cp, found);
  }
  return found;
}
const NO_RULES: readonly number[] = Object.freeze([]);
const MAX_MEMO_CODE_POINTS = 40_000;

/** Where a printable template's rules go (it.fontFaces): printable() fills it with the rules its text needs. */
const FONT_FACES_SLOT = '/*@font-faces*/';

/** A printable template rendered, with the @font-face rules of the characters it holds. */
export function printable(views: { render: (view: string, data: object) => string }, view: string, data: Record<string, unknown>): string {
  const html = views.render(view, { ...data, print: true, fontFaces: FONT_FACES_SLOT });
  return html.replace(FONT_FACES_SLOT, () => pdfFontFaces(html));
}

/** `U+4e00-4e7f, U+3000, U+1f??` as [first, last] intervals. */
function unicodeRanges(range: string): Array<[number, number]> {
  return range.split(',').map((part) => {
    const token = part.trim().replace(/^U\+/i, '');
    if (token.includes('?')) return [parseInt(token.replaceAll('?', '0'), 16), parseInt(token.replaceAll('?', 'f'), 16)];
    const [lo, hi = lo] = token.split('-');
    return [parseInt(lo!, 16), parseInt(hi!, 16)];
  });
}

function loadFontFaces(): FontFaces {
  if (fontFaces) return fontFaces;
  const files = new Map<string, string>();
  const rules: FontFaces['rules'] = [];
  for (const weight of FONT_WEIGHTS) {
    const css = readFileSync(join(FONT_PACKAGE_DIR, `${weight}.css`), 'utf8');
    for (const match of css.matchAll(/@font-face\s*\{([^}]*)\}/g)) {
      const block = match[1] ?? '';
      const file = /url\(\.\/files\/([\w-]+\.woff2)\)/.exec(block)?.[1];
      const range = /unicode-range:\s*([^;]+);/.exec(block)?.[1]?.trim();
      if (!file || !range || !existsSync(join(FONT_PACKAGE_DIR, 'files', file))) continue;
      files.set(file, join(FONT_PACKAGE_DIR, 'files', file));
      rules.push({
        css:
          `@font-face{font-family:'Noto Serif SC';font-style:normal;font-weight:${weight};font-display:block;` +
          `src:url(${FONT_PATH}${file}) format('woff2');unicode-range:${range}}`,
        ranges: unicodeRanges(range),
      });
    }
  }
  if (rules.length === 0) throw new Error(`no Noto Serif SC font files found in ${FONT_PACKAGE_DIR}`);
  fontFaces = { css: rules.map((r) => r.css).join('\n'), rules, files, byCodePoint: new Map() };
  return fontFaces;
}

/** The bytes of a listed font file (kept once read: at most the ~9 MB of both weights), or undefined. */
async function fontFile(name: string): Promise<Buffer | undefined> {
  const path = loadFontFaces().files.get(name);
  if (!path) return undefined;
  let bytes = fontBytes.get(name);
  if (!bytes) {
    bytes = readFile(path);
    fontBytes.set(name, bytes);
  }
  try {
    return await bytes;
  } catch {
    fontBytes.delete(name); // refused this time, read again next time
    return undefined;
  }
}
