/**
 * Accessibility checks in the real browser with axe-core: the WCAG 2.0 and 2.1 A and AA rules (the Norwegian
 * regulation's level), run against the page as the browser rendered it (styles applied, so contrast is measured).
 * axe is evaluated through the DevTools protocol, which the page's CSP does not govern, so the page under test keeps
 * its real policy.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const WCAG_21_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string; failureSummary: string }[];
}

/**
 * The WCAG 2.1 A/AA violations on the page (or inside `include`, a CSS selector), each with the offending nodes, in
 * a form that reads well in a failed assertion. An empty list is a pass.
 */
export async function axeViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(
    `window.axe.run(${include ? JSON.stringify({ include: [include] }) : 'document'}, {
       runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_21_AA_TAGS)} },
       resultTypes: ['violations'],
     })`,
  )) as { violations: { id: string; impact: string | null; help: string; nodes: AxeViolation['nodes'][number][] }[] };
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 300), failureSummary: n.failureSummary })),
  }));
}
