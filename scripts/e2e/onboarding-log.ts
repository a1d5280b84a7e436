/**
 * What the onboarding walk-through counts as a problem: console errors and uncaught exceptions in
 * the browser, WARNING/ERROR/CRITICAL lines in Odoo's server log (Odoo's own CI rule).
 */
import type { Page } from 'playwright-core';

export class BrowserProblems {
  readonly list: string[] = [];

  watch(page: Page): void {
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.list.push(`console error on ${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => this.list.push(`uncaught on ${page.url()}: ${err.message}`));
  }
}

/** Odoo's log line: `2026-12-06 15:04:05,123 4242 WARNING db logger: message`. */
const PROBLEM_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ (WARNING|ERROR|CRITICAL) /;

/** The WARNING/ERROR/CRITICAL lines of an Odoo server log. */
export function odooLogProblems(log: string): string[] {
  return log.split('\n').filter((line) => PROBLEM_LINE.test(line));
}
