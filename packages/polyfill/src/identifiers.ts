import { ALIPAY_METHOD } from '@alipay-payment-handler/protocol'

/** `stdpmi = part *( "-" part )`, `part = loweralpha *( DIGIT / loweralpha )` (https://w3c.github.io/payment-method-id/#standardized-payment-method-identifiers). */
const STANDARDIZED_PMI = /^[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*$/

/**
 * Hosts Chromium accepts over plain http, as potentially trustworthy origins. The spec asks for
 * https only; the kit follows Chromium so that http://localhost works in development and tests.
 */
const LOCAL_HOSTS = /^(?:localhost|127\.0\.0\.1|\[::1\])$|\.localhost$/

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

/**
 * "Validate a payment method identifier" (https://w3c.github.io/payment-method-id/#dfn-validate-a-payment-method-identifier):
 * a string that parses as a URL must be an https URL without credentials, anything else must be a
 * standardized identifier.
 */
export function isValidPaymentMethodIdentifier(pmi: string): boolean {
  const url = parseUrl(pmi)
  if (!url) return STANDARDIZED_PMI.test(pmi)
  if (url.username !== '' || url.password !== '') return false
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.test(url.hostname))
}

/** The identifier as the constructor's duplicate check compares it: URLs after parsing, others as given. */
export function identifierKey(pmi: string): string {
  return parseUrl(pmi)?.href ?? pmi
}

/** True for the identifiers the payment app serves: `"alipay"` and its own URL identifier. */
export function isAlipayIdentifier(pmi: string, methodUrl: string): boolean {
  return pmi === ALIPAY_METHOD || identifierKey(pmi) === methodUrl
}
