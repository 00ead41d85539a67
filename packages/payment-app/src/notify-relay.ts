import {
  HttpCallError,
  httpClientFor,
  GatewayError,
  tradeMismatch,
  type GatewayKind,
  type PartnerInfo,
  type PartnerRegistry,
} from '@alipay-payment-handler/gateway-client'
import {
  NOTIFY_ACK,
  NOTIFY_RETRY_GAPS_SECONDS,
  decodeNotify,
  isPaidStatus,
  missingFields,
  signatureIsGatewayProof,
  type Params,
} from '@alipay-payment-handler/protocol'
import { type Logger, HttpProblem } from '@alipay-payment-handler/server-runtime'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { SessionGateway } from './session-gateway.js'
import type { SessionService } from './session-service.js'
import type { OutboxItem, SessionStore } from './session-store.js'

export interface NotifyRelayDeps {
  store: SessionStore
  partners: PartnerRegistry
  gateway: (partner: string) => SessionGateway
  sessions: SessionService
  logger: Logger
  now?: () => number
  /** Called after a notify was committed, so the outbox forwards it at once. */
  onQueued?: () => void
}

/** Reads the charset parameter of a Content-Type header (the notify body follows `_input_charset`). */
/**
 * The relay's receiving side: verifies a gateway notify (mapi: signature, then `notify_verify`;
 * openapi: the notification rule and `app_id`, openapi having no `notify_verify`),
 * stores it with its outbox job in one transaction, and only then answers `success`. A notify
 * already stored (same `notify_id`) is answered `success` again and recorded once.
 */
export function createNotifyReceiver(deps: NotifyRelayDeps) {
  const now = deps.now ?? Date.now
  const log = deps.logger

  /**
   * The partner a notify names itself: openapi's `app_id`, mapi's `seller_id`. Never found by the
   * order number alone, so one tenant's session can never take another tenant's notifies.
   */
  function namedPartner(params: Params, kind: GatewayKind): PartnerInfo | undefined {
    if (kind === 'openapi') {
      const appId = params['app_id']
      return appId ? deps.partners.list().find((p) => p.kind === 'openapi' && p.appId === appId) : undefined
    }
    return params['seller_id'] ? deps.partners.bySellerId(params['seller_id']) : undefined
  }

  /** `kind` is the endpoint's gateway (`/notify/mapi`, `/notify/openapi`); a partner of the other kind is refused. */
  return async function receive(body: string, contentType: string, kind: GatewayKind = 'mapi'): Promise<string> {
    let params: Params
    let charset: string
    try {
      ;({ params, charset } = decodeNotify(body, contentType))
    } catch {
      throw new HttpProblem(400, 'malformed-notify', 'The notify body does not decode.')
    }
    // The shape before anything else: no signed set of another kind passes as a notify.
    const missing = missingFields(params, kind === 'openapi' ? 'openapi-notify' : 'mapi-notify')
    if (missing.length > 0) {
      throw new HttpProblem(400, 'malformed-notify', `The notify has no ${missing.join(', ')}.`, { missing })
    }
    const notifyId = params['notify_id'] ?? ''
    const partner = namedPartner(params, kind)
    if (!partner) {
      log.warn('notify.unknown-partner', { outTradeNo: params['out_trade_no'] })
      throw new HttpProblem(404, 'unknown-order', 'No session or partner matches this notify.')
    }
    if (partner.kind !== kind) {
      log.warn('notify.wrong-endpoint', { partner: partner.partner, endpoint: kind })
      throw new HttpProblem(404, 'unknown-order', `No ${kind} partner matches this notify.`)
    }
    const gateway = deps.gateway(partner.partner)
    const verified = await gateway.verifySigned(params, charset)
    if (!verified.ok) {
      log.warn('notify.bad-signature', { partner: partner.partner, reason: verified.reason })
      throw new HttpProblem(403, 'invalid-signature', `The notify's signature does not verify (${verified.reason}).`)
    }
    if (gateway.foreignApp(params) !== undefined) {
      // Signed by the gateway, but for another app: never ours to apply or forward.
      log.warn('notify.foreign-app', { partner: partner.partner })
      throw new HttpProblem(403, 'app-mismatch', 'The notify names another app_id.')
    }
    // Whether it is stored already, and the session it pays, in one read: the session's fields the
    // relay uses do not change meanwhile, and settling it is a compare-and-set in the store.
    const arrival = await deps.store.notifyArrival(partner.partner, notifyId, params['out_trade_no'] || undefined)
    if (arrival.stored) {
      log.info('notify.duplicate', { notifyId })
      return NOTIFY_ACK
    }
    let answer: string | undefined
    try {
      answer = await gateway.notifyVerify(notifyId)
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error
      // Not acknowledged: the gateway sends it again on its schedule.
      throw new HttpProblem(503, 'gateway-unavailable', 'notify_verify did not answer; not acknowledged.')
    }
    if (answer !== undefined && answer !== 'true') {
      // A concurrent delivery of the same notify may have been acknowledged meanwhile.
      if (await deps.store.hasNotify(partner.partner, notifyId)) return NOTIFY_ACK
      log.warn('notify.not-verified', { notifyId, answer })
      throw new HttpProblem(403, 'notify-not-verified', `notify_verify answered "${answer}".`)
    }
    const session = arrival.session
    // A paying notify settles the buyer's session only on the gateway's word: its RSA2 signature,
    // or else (MD5, RSA: a leaked key signs those) its trade query, which binds status and amount.
    let confirmed = true
    if (session && isPaidStatus(params['trade_status']) && !signatureIsGatewayProof(params)) {
      try {
        const lookup = await gateway.singleTradeQuery({ tradeNo: params['trade_no'], outTradeNo: session.outTradeNo })
        confirmed =
          lookup.found &&
          isPaidStatus(lookup.trade.status) &&
          tradeMismatch({ orderId: session.outTradeNo, amount: session.totalFee }, lookup.trade, undefined) ===
            undefined
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error
        throw new HttpProblem(503, 'gateway-unavailable', 'The trade query did not answer; not acknowledged.')
      }
      if (!confirmed) log.error('notify.not-confirmed', { sessionId: session.id, notifyId })
    }
    if (!session) log.warn('notify.unknown-order', { outTradeNo: params['out_trade_no'], notifyId })
    // Stored, with the session's settlement, in one transaction (this turn's group commit) before
    // `success` goes back.
    const settlement = session && confirmed ? deps.sessions.notifySettlement(session, params) : undefined
    const { inserted, settled } = await deps.store.recordNotify(
      {
        partner: partner.partner,
        notifyId,
        outTradeNo: params['out_trade_no'],
        tradeStatus: params['trade_status'],
        sessionId: session?.id,
        body,
        contentType: contentType || 'application/x-www-form-urlencoded',
        receivedAt: now(),
      },
      session?.merchantNotifyUrl,
      now(),
      settlement,
    )
    if (session && settled) deps.sessions.announceSettled(session.id, settled)
    if (inserted) {
      if (session && isPaidStatus(params['trade_status']) && !settled && session.status !== 'paid') {
        log.error('notify.not-applied', { sessionId: session.id, tradeStatus: params['trade_status'] })
      }
      log.info('notify.stored', { notifyId, outTradeNo: params['out_trade_no'], forwarded: Boolean(session) })
      deps.onQueued?.()
    }
    return NOTIFY_ACK
  }
}

export interface OutboxDeps {
  store: SessionStore
  logger: Logger
  fetch?: typeof fetch
  now?: () => number
  /** Gaps between deliveries, in ms; the gateway's schedule by default (mapi-protocol §6.2). */
  retryGapsMs?: readonly number[]
  timeoutMs?: number
  /** This process's name on the jobs it leases (default: host, pid and a random suffix). */
  owner?: string
  /**
   * How long a leased job stays this process's (default: three delivery timeouts). When the
   * process dies mid-delivery, another takes the job over after this.
   */
  leaseMs?: number
  /** Told each delivery's outcome (metrics). */
  onDelivery?: (outcome: 'forwarded' | 'failed') => void
}

/** The gateway's own schedule: 4m, 10m, 10m, 1h, 2h, 6h, 15h. */
export const DEFAULT_RETRY_GAPS_MS: readonly number[] = NOTIFY_RETRY_GAPS_SECONDS.map((s) => s * 1000)

/**
 * The relay's forwarding side: POSTs each stored notify verbatim (same body, same Content-Type)
 * to the merchant's notify_url until it answers exactly `success`, then stops. Everything is in
 * the store, so a restart resumes where it stopped. Several processes share one outbox: each
 * leases the jobs it delivers, and a job whose lease ran out (its process died) is taken over. A
 * delivery in flight at a crash is thus sent again; the merchant de-duplicates by notify_id, as
 * it must anyway, and the job is then marked delivered like any other.
 */
export function createOutboxDispatcher(deps: OutboxDeps) {
  const now = deps.now ?? Date.now
  const gaps = deps.retryGapsMs ?? DEFAULT_RETRY_GAPS_MS
  const http = httpClientFor(deps.fetch)
  const timeoutMs = deps.timeoutMs ?? 10_000
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const leaseMs = deps.leaseMs ?? 3 * timeoutMs
  // A notify storm must drain fast, and one slow merchant endpoint must not hold up the rest:
  // deliver a batch concurrently, and take the next batch at once while batches come back full.
  async function deliver(item: OutboxItem): Promise<void> {
    let error: string | undefined
    try {
      const reply = await http({
        method: 'POST',
        url: item.targetUrl,
        headers: { 'content-type': item.contentType },
        body: item.body,
        timeoutMs,
        purpose: 'notify',
      })
      if (reply.status !== 200 || reply.text !== NOTIFY_ACK) error = `HTTP ${reply.status}, body not "success"`
    } catch (cause) {
      error = cause instanceof HttpCallError ? `${cause.failure}: ${cause.message}` : String(cause)
    }
    // Outcomes share a commit with the others of this turn; a crash before it only means the
    // delivery is made again, which the merchant de-duplicates anyway.
    if (error === undefined) {
      await deps.store.markDelivered(item.id, now())
      deps.logger.info('relay.delivered', { outboxId: item.id, attempts: item.attempts + 1 })
      deps.onDelivery?.('forwarded')
    } else {
      const gap = gaps[item.attempts]
      const failure = error
      await deps.store.markAttemptFailed(item.id, failure, gap === undefined ? undefined : now() + gap, owner)
      deps.onDelivery?.('failed')
      deps.logger.warn(gap === undefined ? 'relay.gave-up' : 'relay.retry', {
        outboxId: item.id,
        attempts: item.attempts + 1,
        error,
      })
    }
  }

  /** Delivers everything due now; returns how many deliveries were attempted. */
  return async function runOnce(): Promise<number> {
    let attempted = 0
    for (let round = 0; round < MAX_ROUNDS_PER_RUN; round++) {
      const due = await deps.store.leaseOutbox(owner, now(), BATCH_SIZE, leaseMs)
      await Promise.all(due.map(deliver))
      attempted += due.length
      if (due.length < BATCH_SIZE) break
    }
    return attempted
  }
}

/** Deliveries in flight at once: enough to hide merchant latency, few enough for one process. */
const BATCH_SIZE = 32
/** Bounds one run, so a huge backlog still lets the loop's other duties (stop) in between. */
const MAX_ROUNDS_PER_RUN = 50
