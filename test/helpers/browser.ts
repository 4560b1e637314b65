import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import * as assert from 'uvu/assert';

// What the real-browser path tests share: sizes, clicking through, signing in, fitting a phone.
export const PHONE = { width: 360, height: 640 };
export const DESK = { width: 1366, height: 900 };

/**
 * Clicks and waits for the page it leads to. Locators wait until an element is visible and holds
 * still (an uploaded page's image may still be loading and moving the form), so clicks hold on a busy machine.
 */
export async function go(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation(), page.locator(selector).click()]);
}

/** A fresh browser context signed in to a portal; a graduate also confirms the roster record (G1). */
export async function signedIn(browser: Browser, base: string, portal: string, login: string, password: string, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(viewport);
  await page.goto(`${base}/${portal}/login`);
  await page.type('#login', login);
  await page.type('#password', password);
  await go(page, '#login-form button[type=submit]');
  if (portal === 'student') await go(page, 'form[action="/student/check"] button[type=submit]');
  return { context, page };
}

/** The graduate's page fits the phone (no sideways scrolling). */
export async function fits(page: Page) {
  const width = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  assert.ok(width <= PHONE.width, `${page.url()} is ${width}px wide`);
}

export const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent!.trim());
