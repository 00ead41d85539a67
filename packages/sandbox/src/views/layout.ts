import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

/** Markup from hono's `html` tag: interpolations are HTML-escaped. */
export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>

/** Where the sandbox's stylesheet and script live (same origin, so the CSP can stay 'self'). */
export const ASSET_PATHS = { css: '/_sandbox/assets/sandbox.css', js: '/_sandbox/assets/cashier.js' } as const

/**
 * A strict CSP: no inline script or style, no plugins, no framing. `formTargets` are the extra
 * origins a form may post or redirect to (Chrome applies form-action to the redirect after a POST).
 */
export function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  const forms = ["'self'", ...formTargets].join(' ')
  return [
    "default-src 'none'",
    "style-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `form-action ${forms}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

/** Security headers for every sandbox page. */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(formTargets),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the pages' own
    // form POSTs, which the admin guard must refuse. Other origins still get no referrer.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  }
}

const CJK_RUN = /([\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+(?:[\s·]*[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+)*)/

/**
 * Bilingual text for an English page: every run of Chinese characters in its own `lang="zh"` span,
 * so screen readers pronounce it and browsers do not offer to translate the page.
 */
export function bilingual(text: string): Markup {
  const parts = text.split(CJK_RUN)
  return html`${parts.map((part, i) => (i % 2 === 1 ? html`<span lang="zh">${part}</span>` : part))}`
}

/** The page shell shared by the cashier, the phone page, error pages and the inspector. */
export function layout(options: {
  title: string
  body: Markup
  head?: Markup | undefined
  bodyClass?: string | undefined
  bodyData?: Record<string, string> | undefined
}): Markup {
  const data = Object.entries(options.bodyData ?? {})
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title}</title>
        <link rel="stylesheet" href="${ASSET_PATHS.css}" />
        ${options.head ?? ''}
      </head>
      <body class="${options.bodyClass ?? ''}" ${data.map(([k, v]) => html`data-${k}="${v}" `)}>
        <header class="bar">
          <span class="logo" lang="zh">支付宝</span><span class="bar-title">${bilingual(options.title)}</span
          ><span class="badge">SANDBOX</span>
        </header>
        <main>${options.body}</main>
        <footer class="foot">
          Local mapi gateway sandbox. No real money moves. <a href="/_sandbox/inspector">Inspector</a>
        </footer>
      </body>
    </html>`
}
