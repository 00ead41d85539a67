import { randomBytes, randomInt } from 'node:crypto'
import { compactBeijingTime } from '@alipay-payment-handler/protocol'

/** A 28-digit trade number shaped like newer real ones: yyyyMMdd + 2100100 + 13 digits (mapi-protocol §3.4, observed). */
export function newTradeNo(now: number): string {
  let digits = ''
  for (let i = 0; i < 13; i++) digits += String(randomInt(10))
  return `${compactBeijingTime(new Date(now)).slice(0, 8)}2100100${digits}`
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** An asynchronous notify_id: 34 letters and digits, nothing to escape (mapi-protocol §5.2, observed). */
export function newAsyncNotifyId(): string {
  let out = ''
  for (const byte of randomBytes(34)) out += ALNUM[byte % ALNUM.length]
  return out
}

/**
 * A return notify_id. Real ones carry percent escapes inside the value (mapi-protocol §5.2); ours always
 * contain both `%2F` and `%2B`, so every return exercises the decode-once rule.
 */
export function newReturnNotifyId(): string {
  const b64 = () => randomBytes(15).toString('base64').replace(/[+/=]/g, 'x')
  return `${b64()}%2F${b64()}%2B${b64()}`
}

/** The token in a cashier URL, like the real cashier's payOrderId. */
export function newCashierToken(): string {
  return randomBytes(16).toString('hex')
}

/** The key under which a notify_id is stored and looked up: `X` and `decodeURIComponent(X)` are the same ID. */
export function notifyIdKey(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
