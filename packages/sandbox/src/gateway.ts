import type { Context } from 'hono'
import {
  compactBeijingTime,
  encodeText,
  isAmountString,
  isNotifyUrl,
  MAPI_SERVICES,
  parseBeijingTime,
  parseRefundDetails,
  PC_PAY_SERVICE,
  renderGatewayReply,
  stringToSign,
  toFen,
  verifyParams,
  WAP_PAY_SERVICE,
  type GatewayReplyContent,
  type Params,
  type RefundDetail,
} from '@alipay-payment-handler/protocol'
import type { PartnerProfile } from './config.js'
import { notifyIdKey } from './ids.js'
import { isGatewayRequest, readGatewayRequest } from './request.js'
import type { SandboxDeps } from './deps.js'
import { noteParams, noteSignCheck } from './request-log.js'
import type { Refusal } from './trades.js'
import { pageHeaders } from './views/layout.js'
import { errorPage } from './views/pages.js'

/** Services answered with the cashier or an HTML error page. */
const PAGE_SERVICES: readonly string[] = [PC_PAY_SERVICE, WAP_PAY_SERVICE]
/** Signed server-to-server services answered in XML. */
const XML_SERVICES: readonly string[] = [MAPI_SERVICES.query, MAPI_SERVICES.close, MAPI_SERVICES.refund]

/** The gateway's HTML error page (browser services, mapi-protocol §12). */
export function htmlError(c: Context, refusal: Refusal, status = 200): Response | Promise<Response> {
  for (const [k, v] of Object.entries(pageHeaders())) c.header(k, v)
  // Someone opened the endpoint itself in a browser: still the gateway's answer, plus where to look.
  const bare = c.req.method === 'GET' && new URL(c.req.url).search === ''
  return c.html(errorPage(refusal.code, refusal.field, bare), status as 200)
}

/** An XML reply in the request's charset, subject to the reply faults. */
export function xmlReply(
  c: Context,
  deps: SandboxDeps,
  service: string,
  content: GatewayReplyContent,
  charset = 'utf-8',
): Response {
  const fault = deps.faults.replyFaultFor(service)
  if (fault && fault.status >= 500) {
    return new Response('<html><body><h1>502 Bad Gateway</h1></body></html>', {
      status: fault.status,
      headers: { 'content-type': 'text/html' },
    })
  }
  let xml = renderGatewayReply({ ...content, charset })
  if (fault?.malformed) xml = xml.slice(0, Math.max(20, Math.floor(xml.length / 2)))
  const bytes = encodeText(xml, charset)
  return new Response(bytes, { status: 200, headers: { 'content-type': `text/xml; charset=${charset}` } })
}

const xmlError = (c: Context, deps: SandboxDeps, service: string, refusal: Refusal, charset = 'utf-8') =>
  xmlReply(c, deps, service, { isSuccess: false, error: refusal.code }, charset)

/** Which error format an unknown request gets: HTML for browsers, XML for servers. */
export function refuseUnknown(c: Context, deps: SandboxDeps, refusal: Refusal, status = 200) {
  const accept = c.req.header('accept') ?? ''
  if (accept.includes('text/html')) return htmlError(c, refusal, status)
  const response = xmlError(c, deps, '', refusal)
  return status === 200 ? response : new Response(response.body, { status, headers: response.headers })
}

/** Partner, sign_type, key, signature and contract checks shared by every signed service (mapi-protocol §3.1, mapi-protocol §4). */
async function checkSigned(
  deps: SandboxDeps,
  params: Params,
): Promise<{ partner: PartnerProfile } | { refusal: Refusal }> {
  const partner = deps.trades.partner(params['partner'])
  if (!/^2088\d{12}$/.test(params['partner'] ?? '') || !partner)
    return { refusal: { code: 'ILLEGAL_PARTNER', field: 'partner' } }
  const signType = params['sign_type'] ?? ''
  if (signType !== 'MD5' && signType !== 'RSA' && signType !== 'RSA2')
    return { refusal: { code: 'ILLEGAL_SIGN_TYPE', field: 'sign_type' } }
  if (signType === 'MD5' && !partner.md5Key)
    return { refusal: { code: 'ILLEGAL_SECURITY_PROFILE', field: 'sign_type' } }
  if (signType !== 'MD5' && !partner.rsaPublicKey) return { refusal: { code: 'HAS_NO_PUBLICKEY', field: 'sign_type' } }
  const result = await verifyParams(params, {
    keys: { md5Key: partner.md5Key, publicKey: partner.rsaPublicKey },
    charset: params['_input_charset'],
  })
  if (!result.ok) {
    if (result.reason === 'bad-charset') return { refusal: { code: 'ILLEGAL_ENCODING', field: '_input_charset' } }
    if (result.reason === 'bad-key') return { refusal: { code: 'ILLEGAL_SECURITY_PROFILE', field: 'sign_type' } }
    return { refusal: { code: 'ILLEGAL_SIGN', field: 'sign' } }
  }
  const service = params['service'] ?? ''
  if (partner.services && !partner.services.includes(service))
    return { refusal: { code: 'ILLEGAL_PARTNER_EXTERFACE', field: 'service' } }
  return { partner }
}

/** How the inspector's log words a signature check. */
function signCheckOf(checked: { partner: PartnerProfile } | { refusal: Refusal }): string {
  if (!('refusal' in checked)) return 'ok'
  const { code } = checked.refusal
  return code === 'ILLEGAL_SIGN' || code === 'ILLEGAL_ENCODING' ? `failed (${code})` : `not checked (${code})`
}

/** The `/gateway.do` handler: decodes once, dispatches on `service`, never throws to the client. */
export async function handleGateway(c: Context, deps: SandboxDeps): Promise<Response> {
  const request = await readGatewayRequest(c, deps.config.maxBodyBytes)
  if (!isGatewayRequest(request)) {
    const service = new URL(c.req.url).searchParams.get('service') ?? ''
    return PAGE_SERVICES.includes(service) ? htmlError(c, request) : refuseUnknown(c, deps, request)
  }
  const { params } = request
  noteParams(c, params)
  const service = params['service'] ?? ''
  if (service === MAPI_SERVICES.notifyVerify) {
    noteSignCheck(c, 'unsigned service')
    return notifyVerify(deps, params)
  }
  const isPage = PAGE_SERVICES.includes(service)
  if (!isPage && !XML_SERVICES.includes(service))
    return refuseUnknown(c, deps, { code: 'ILLEGAL_SERVICE', field: 'service' })
  const fail = (refusal: Refusal, charset = 'utf-8') =>
    isPage ? htmlError(c, refusal) : xmlError(c, deps, service, refusal, charset)
  const charset = (params['_input_charset'] ?? '').toLowerCase()
  if (!['utf-8', 'gbk', 'gb2312'].includes(charset)) return fail({ code: 'ILLEGAL_CHARSET', field: '_input_charset' })
  const checked = await checkSigned(deps, params)
  noteSignCheck(c, signCheckOf(checked))
  if ('refusal' in checked) return fail(checked.refusal, charset)
  const { partner } = checked
  switch (service) {
    case MAPI_SERVICES.query:
      return singleTradeQuery(c, deps, params, partner, charset)
    case MAPI_SERVICES.close:
      return closeTrade(c, deps, params, partner, charset)
    case MAPI_SERVICES.refund:
      return refundNoPwd(c, deps, params, partner, charset)
    default: {
      const opened = deps.trades.openPayRequest(params, partner)
      if ('refusal' in opened) return fail(opened.refusal)
      // Like the real gateway, hand the browser over to the cashier's own URL, so reloads are safe.
      return c.redirect(`/cashier/${opened.trade.cashierToken}`, 302)
    }
  }
}

function notifyVerify(deps: SandboxDeps, params: Params): Response {
  const text = (body: 'true' | 'false' | 'invalid') =>
    new Response(body, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } })
  const partner = params['partner'] ?? ''
  const raw = params['notify_id'] ?? ''
  if (!/^2088\d{12}$/.test(partner) || raw === '' || raw.length > 256) return text('invalid')
  const fault = deps.faults.replyFaultFor(MAPI_SERVICES.notifyVerify)
  if (fault && fault.status >= 500) return new Response('Bad Gateway', { status: fault.status })
  const key = notifyIdKey(raw)
  const now = deps.clock.now()
  const notify = deps.store.notifyByNotifyId(key)
  if (notify)
    return text(
      notify.partner === partner && notify.state !== 'delivered' && notify.state !== 'failed' ? 'true' : 'false',
    )
  const ret = deps.store.returnId(key)
  if (ret) return text(ret.partner === partner && ret.expiresAt > now ? 'true' : 'false')
  return text('false')
}

function singleTradeQuery(c: Context, deps: SandboxDeps, params: Params, partner: PartnerProfile, charset: string) {
  const service = MAPI_SERVICES.query
  const tradeNo = params['trade_no'] || undefined
  const outTradeNo = params['out_trade_no'] || undefined
  if (!tradeNo && !outTradeNo)
    return xmlError(c, deps, service, { code: 'PARAMTER_IS_NULL', field: 'trade_no' }, charset)
  const trade = deps.trades.find(partner.partner, tradeNo, outTradeNo)
  if (!trade) return xmlError(c, deps, service, { code: 'TRADE_NOT_EXIST', field: 'trade_no' }, charset)
  const fields = deps.trades.queryFields(trade)
  const request: Params = {}
  for (const [key, value] of Object.entries(params)) if (key !== 'sign' && key !== 'sign_type') request[key] = value
  return deps.signer
    .signText(stringToSign(fields), partner, params['sign_type']!, charset)
    .then((sign) =>
      xmlReply(
        c,
        deps,
        service,
        { isSuccess: true, request, trade: fields, sign, signType: params['sign_type'] },
        charset,
      ),
    )
}

function closeTrade(c: Context, deps: SandboxDeps, params: Params, partner: PartnerProfile, charset: string) {
  const service = MAPI_SERVICES.close
  // The order-number parameter's name is uncertain (mapi-protocol §9): accept both.
  const tradeNo = params['trade_no'] || undefined
  const outNo = params['out_order_no'] || params['out_trade_no'] || undefined
  if (!tradeNo && !outNo) return xmlError(c, deps, service, { code: 'PARAMTER_IS_NULL', field: 'trade_no' }, charset)
  if (params['trade_role'] && !['B', 'S'].includes(params['trade_role']))
    return xmlError(c, deps, service, { code: 'ILLEGAL_ARGUMENT', field: 'trade_role' }, charset)
  const trade = deps.trades.find(partner.partner, tradeNo, outNo)
  if (!trade) return xmlError(c, deps, service, { code: 'TRADE_NOT_EXIST', field: 'trade_no' }, charset)
  if (deps.trades.close(trade) === 'not-closable')
    return xmlError(c, deps, service, { code: 'TRADE_STATUS_NOT_AVAILD', field: 'trade_no' }, charset)
  return xmlReply(c, deps, service, { isSuccess: true }, charset)
}

/** Checks a refund request's batch fields (mapi-protocol §10.1, mapi-protocol §13); the first broken rule wins. */
export function checkRefundRequest(
  params: Params,
  partner: PartnerProfile,
  now: number,
  today: string,
): { entries: RefundDetail[] } | { refusal: Refusal } {
  const refuse = (code: Refusal['code'], field: string) => ({ refusal: { code, field } })
  for (const field of ['batch_no', 'batch_num', 'detail_data', 'refund_date'])
    if (!params[field]) return refuse('PARAMTER_IS_NULL', field)
  const sellerId = params['seller_user_id']
  const sellerEmail = params['seller_email']
  if (!sellerId && !sellerEmail) return refuse('PARAMTER_IS_NULL', 'seller_user_id')
  if (
    sellerId
      ? sellerId !== partner.partner && !(partner.sellerIds ?? []).includes(sellerId)
      : sellerEmail?.toLowerCase() !== partner.sellerEmail?.toLowerCase()
  )
    return refuse('SELLER_INFO_NOT_EXIST', sellerId ? 'seller_user_id' : 'seller_email')
  const batchNo = params['batch_no']!
  const m = /^(\d{8})([A-Za-z0-9]{3,24})$/.exec(batchNo)
  if (!m || m[2] === '000' || m[1] !== today) return refuse('BATCH_NO_FORMAT_ERROR', 'batch_no')
  const refundDate = parseBeijingTime(params['refund_date']!)
  // "The current time": the sandbox allows a day of skew either way [sandbox].
  if (!refundDate || Math.abs(refundDate.getTime() - now) > 86_400_000)
    return refuse('REFUND_DATE_ERROR', 'refund_date')
  const batchNum = params['batch_num']!
  if (!/^[1-9]\d{0,5}$/.test(batchNum)) return refuse('BATCH_NUM_ERROR', 'batch_num')
  if (Number(batchNum) > 1000) return refuse('BATCH_NUM_EXCEED_LIMIT', 'batch_num')
  const details = parseRefundDetails(params['detail_data']!)
  if (details.length !== Number(batchNum)) return refuse('BATCH_NUM_NOT_EQUAL_TOTAL', 'batch_num')
  const entries: RefundDetail[] = []
  const seen = new Set<string>()
  for (const detail of details) {
    // Fee refunds (`$…` suffix) are not simulated: the parser leaves them out as malformed [sandbox].
    if (!detail) return refuse('DETAIL_DATA_FORMAT_ERROR', 'detail_data')
    const { tradeNo, amount, reason } = detail
    if (!/^\d{16,64}$/.test(tradeNo)) return refuse('DETAIL_DATA_FORMAT_ERROR', 'detail_data')
    if (!isAmountString(amount) || toFen(amount) < 1n) return refuse('REFUND_AMOUNT_NOT_VALID', 'detail_data')
    if (encodeText(reason, 'utf-8').length >= 256) return refuse('SINGLE_DETAIL_DATA_EXCEED_LIMIT', 'detail_data')
    if (seen.has(tradeNo)) return refuse('DUBL_TRADE_NO_IN_SAME_BATCH', 'detail_data')
    seen.add(tradeNo)
    entries.push({ tradeNo, amount, reason })
  }
  if (params['notify_url'] && !isNotifyUrl(params['notify_url'])) return refuse('ILLEGAL_ARGUMENT', 'notify_url')
  return { entries }
}

function refundNoPwd(c: Context, deps: SandboxDeps, params: Params, partner: PartnerProfile, charset: string) {
  const service = MAPI_SERVICES.refund
  const now = deps.clock.now()
  const today = compactBeijingTime(new Date(now)).slice(0, 8)
  const checked = checkRefundRequest(params, partner, now, today)
  if ('refusal' in checked) return xmlError(c, deps, service, checked.refusal, charset)
  if (deps.store.refundBatch(partner.partner, params['batch_no']!))
    return xmlError(c, deps, service, { code: 'DUPLICATE_BATCH_NO', field: 'batch_no' }, charset)
  deps.trades.refundBatch({
    partner,
    batchNo: params['batch_no']!,
    detailData: params['detail_data']!,
    entries: checked.entries,
    notifyUrl: params['notify_url'] || undefined,
    charset,
    signType: params['sign_type']!,
  })
  return xmlReply(c, deps, service, { isSuccess: true }, charset)
}
