import AxeBuilder from '@axe-core/playwright'
import { expect, type Page } from '@playwright/test'

/** Impacts that fail a page: the two axe-core calls a person cannot work around. */
const BLOCKING_IMPACTS = new Set(['serious', 'critical'])

/**
 * Runs axe-core (WCAG 2.x A and AA rules) on the page as it is now and fails with a readable list
 * of every serious or critical violation: rule, impact, help text and the offending selectors.
 */
export async function expectNoSeriousViolations(page: Page, pageName: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const blocking = results.violations.filter((violation) => BLOCKING_IMPACTS.has(violation.impact ?? ''))
  const described = blocking.map(
    (violation) =>
      `${violation.id} (${violation.impact}): ${violation.help}\n` +
      violation.nodes.map((node) => `    ${node.target.join(' ')}`).join('\n'),
  )
  expect(described, `axe-core on ${pageName}`).toEqual([])
}
