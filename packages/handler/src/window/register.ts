import { Workbox } from 'workbox-window'
import { SCOPE_PATH, SW_PATH } from '../common/paths.js'

/**
 * Registers (or updates) the payment handler's worker from our own pages with workbox-window.
 * Chromium installs it just in time on the first payment; this keeps it current afterwards. A new
 * version waits: asked to skip waiting, the worker itself refuses while a payment is in flight
 * (handler/sw/update-policy.ts), because only the old worker can answer that payment's event.
 */
export function registerHandlerWorker(): void {
  if (!('serviceWorker' in navigator)) return
  const workbox = new Workbox(SW_PATH, { scope: SCOPE_PATH, updateViaCache: 'none' })
  workbox.addEventListener('waiting', () => workbox.messageSkipWaiting())
  workbox.register().catch((error: unknown) => console.warn('[alipay-handler] Worker registration failed:', error))
}
