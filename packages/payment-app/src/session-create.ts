import {
  APP_PAY_SERVICE,
  PC_PAY_SERVICE,
  ProtocolError,
  ValidationError,
  WAP_PAY_SERVICE,
  amountsEqual,
  itBPayDeadline,
  parseItBPay,
  validatePaymentMethodData,
  verifyParams,
  type PaymentMethodSpecificData,
} from '@alipay-payment-handler/protocol'
import { minutesUntil } from './translate.js'
import { problem, type SessionContext } from './session-context.js'
import type { CreatedSession, CreateSessionInput, SessionService } from './session-types.js'

/** Opening a payment session: verify the merchant's signed method data and the total, then re-sign it for the cashier. */
export function createUseCase(ctx: SessionContext): Pick<SessionService, 'create'> {
  const { deps, now, ttl, newId, log } = ctx

  function checkOrder(data: PaymentMethodSpecificData, input: CreateSessionInput) {
    if (data.service !== APP_PAY_SERVICE && data.service !== PC_PAY_SERVICE && data.service !== WAP_PAY_SERVICE) {
      throw problem(400, 'unsupported-service', `service "${data.service}" is not ${APP_PAY_SERVICE}.`)
    }
    for (const field of ['out_trade_no', 'subject', 'total_fee'] as const) {
      if (!data[field])
        throw problem(400, 'invalid-method-data', `"${field}" is required to pay on the web.`, { field })
    }
    if (input.total.currency !== 'CNY') {
      throw problem(400, 'currency-not-supported', `Alipay takes CNY only, not "${input.total.currency}".`)
    }
    let equal = false
    try {
      equal = amountsEqual(input.total.value, data.total_fee ?? '')
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error
      throw problem(400, 'amount-invalid', 'total.value must be a decimal string with at most 2 decimals.')
    }
    if (!equal) {
      throw problem(400, 'amount-mismatch', 'total.value does not equal the signed total_fee.', {
        totalValue: input.total.value,
        totalFee: data.total_fee,
      })
    }
  }

  async function create(input: CreateSessionInput): Promise<CreatedSession> {
    let data: PaymentMethodSpecificData
    try {
      data = validatePaymentMethodData(input.methodData)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      throw problem(400, 'invalid-method-data', `"${error.field}" ${error.reason}`, {
        field: error.field,
        issues: error.issues,
      })
    }
    const partner = deps.partners.get(data.partner)
    if (!partner) throw problem(403, 'unknown-partner', `Partner ${data.partner} is not served here.`)
    if (!partner.allowedOrigins.includes(input.merchantOrigin)) {
      throw problem(403, 'origin-not-allowed', `${input.merchantOrigin} may not take payments for this partner.`)
    }
    // The relay will POST this partner's notifies to notify_url: only to the partner's own origins,
    // never to whatever host, port or path a signed field names (the payment app's neighbours).
    if (!notifyUrlAllowed(data.notify_url, partner.notifyOrigins)) {
      throw problem(403, 'notify-url-not-allowed', 'notify_url must be on one of this partner’s configured origins.', {
        field: 'notify_url',
      })
    }
    // One sign type per partner and direction: data signed any other way is refused, even when a
    // key for that other type is configured too (no "any key that verifies").
    const signType = data.sign_type
    if (signType !== partner.signType || !(partner.merchantSignTypes as readonly string[]).includes(signType)) {
      throw problem(
        400,
        'unsupported-sign-type',
        `This partner's method data is signed ${partner.signType}, not "${signType}".`,
        { expected: partner.signType },
      )
    }
    const verified = await verifyParams(data, {
      keys: deps.partners.merchantKeys(data.partner),
      signType: partner.signType,
    })
    if (!verified.ok) {
      log.warn('session.bad-merchant-sign', { partner: data.partner, reason: verified.reason })
      throw problem(403, 'invalid-signature', `The merchant's sign does not verify (${verified.reason}).`, {
        reason: verified.reason,
      })
    }
    checkOrder(data, input)
    const outTradeNo = data.out_trade_no ?? ''
    if (data.seller_id && /^2088\d{12}$/.test(data.seller_id) && data.seller_id !== partner.sellerId) {
      throw problem(403, 'seller-mismatch', 'seller_id is not the seller configured for this partner.')
    }
    const createdAt = now()
    let expiresAt = createdAt + ttl
    let itBPay: string | undefined
    if (data.it_b_pay) {
      const parsed = parseItBPay(data.it_b_pay, { allowAbsolute: true })
      if (!parsed) throw problem(400, 'invalid-method-data', '"it_b_pay" is malformed.', { field: 'it_b_pay' })
      const deadline = itBPayDeadline(parsed, new Date(createdAt))
      if (parsed.kind === 'absolute') {
        itBPay = minutesUntil(deadline, new Date(createdAt))
        if (!itBPay) throw problem(410, 'order-expired', `The order expired at ${data.it_b_pay} (Beijing time).`)
      } else {
        itBPay = data.it_b_pay
      }
      expiresAt = deadline.getTime()
    }
    const standing = await deps.store.orderStanding(partner.partner, outTradeNo)
    // Cancelled by its merchant (a signed revoke): its method data pays nothing any more.
    if (standing.revoked) {
      throw problem(410, 'order-cancelled', `Order ${outTradeNo} was cancelled by the merchant.`)
    }
    if (standing.paid) throw problem(409, 'order-already-paid', `Order ${outTradeNo} is already paid.`)
    const id = newId()
    const device = input.device ?? 'pc'
    const gateway = deps.gateway(partner.partner)
    // Each gateway notifies its own relay endpoint, which verifies with that gateway's rule.
    const request = await gateway.buildPayRequest(data, {
      device,
      sellerId: partner.sellerId,
      notifyUrl: `${deps.publicOrigin}/notify/${gateway.kind}`,
      returnUrl: `${deps.publicOrigin}/pay/return/${id}`,
      // The cashier's "cancel, back to the merchant" leads here: the return page ends the payment as
      // the buyer's cancel, in the payment window or popup the cashier runs in.
      showUrl: `${deps.publicOrigin}/pay/return/${id}?quit=1`,
      itBPay,
    })
    await deps.store.insertSession({
      id,
      partner: partner.partner,
      paymentRequestId: input.paymentRequestId,
      merchantOrigin: input.merchantOrigin,
      outTradeNo,
      subject: data.subject ?? '',
      totalFee: data.total_fee ?? '',
      device,
      merchantNotifyUrl: data.notify_url,
      request: request.params,
      // The cashier URL leaves with this answer, so the session is at the cashier from here on.
      status: 'at_cashier',
      outcome: undefined,
      tradeNo: undefined,
      expiresAt,
      windowClosed: false,
      nextPollAt: undefined,
      createdAt,
    })
    log.info('session.created', { sessionId: id, partner: partner.partner, outTradeNo, device })
    return {
      sessionId: id,
      status: 'at_cashier',
      cashierUrl: request.url,
      form: request.form,
      expiresAt: new Date(expiresAt).toISOString(),
      merchantOrigin: input.merchantOrigin,
      subject: data.subject ?? '',
      totalFee: data.total_fee ?? '',
    }
  }

  return { create }
}

/** Whether a notify URL is http(s) on one of `origins` exactly (scheme, host and port). */
function notifyUrlAllowed(url: string | undefined, origins: readonly string[]): boolean {
  if (!url) return false
  try {
    const parsed = new URL(url)
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && origins.includes(parsed.origin)
  } catch {
    return false
  }
}
