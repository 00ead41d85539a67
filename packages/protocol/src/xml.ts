import { XMLParser } from 'fast-xml-parser'
import { ProtocolError } from './errors.js'
import type { Params } from './form.js'

/** A gateway XML reply (mapi-protocol §12), every value kept as the exact text the gateway sent. */
export interface GatewayReply {
  isSuccess: boolean
  /** `is_success` as sent: `T`, `F` or (refunds, unconfirmed) `P`. */
  isSuccessFlag: string
  error?: string
  request: Params
  /** Children of `<response><trade>`, for `single_trade_query`. */
  trade?: Params
  sign?: string
  signType?: string
}

/** Replies larger than this are refused before parsing; real ones are a few kilobytes. */
export const MAX_REPLY_BYTES = 256 * 1024

// Built on first use, not at import: bundles that never parse XML (the service worker, the
// checkout page) then tree-shake the parser away entirely.
let parser: XMLParser | undefined
function xmlParser(): XMLParser {
  parser ??= new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: false,
    isArray: (name) => name === 'param',
  })
  return parser
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Leaf elements of a container as strings; whitespace between elements is ignored. */
function leaves(node: unknown): Params {
  const out: Params = {}
  if (!isRecord(node)) return out
  for (const [key, value] of Object.entries(node)) {
    if (key === '#text' || key.startsWith('@_')) continue
    if (typeof value === 'string') out[key] = value
    else if (isRecord(value) && typeof value['#text'] === 'string') out[key] = value['#text']
  }
  return out
}

/**
 * Parses a gateway XML reply. Throws ProtocolError XML_MALFORMED for anything that is not an
 * `<alipay>` document, and refuses DOCTYPEs outright (no entity expansion of untrusted input).
 */
export function parseGatewayReply(xml: string): GatewayReply {
  if (xml.length > MAX_REPLY_BYTES) throw new ProtocolError('XML_MALFORMED', 'reply is too large')
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new ProtocolError('XML_MALFORMED', 'reply carries a DOCTYPE; refused')
  let doc: unknown
  try {
    doc = xmlParser().parse(xml, true)
  } catch (cause) {
    throw new ProtocolError('XML_MALFORMED', 'reply is not well-formed XML', { cause: String(cause) })
  }
  const root = isRecord(doc) ? doc['alipay'] : undefined
  if (!isRecord(root)) throw new ProtocolError('XML_MALFORMED', 'reply has no <alipay> root element')
  const top = leaves(root)
  const flag = top['is_success']?.trim()
  if (flag === undefined) throw new ProtocolError('XML_MALFORMED', 'reply has no <is_success>')
  const request: Params = {}
  const requestNode = root['request']
  if (isRecord(requestNode) && Array.isArray(requestNode['param'])) {
    for (const param of requestNode['param']) {
      if (isRecord(param) && typeof param['@_name'] === 'string') {
        request[param['@_name']] = typeof param['#text'] === 'string' ? param['#text'] : ''
      }
    }
  }
  const response = root['response']
  const trade = isRecord(response) && response['trade'] !== undefined ? leaves(response['trade']) : undefined
  const reply: GatewayReply = { isSuccess: flag === 'T', isSuccessFlag: flag, request }
  if (top['error'] !== undefined) reply.error = top['error'].trim()
  if (trade) reply.trade = trade
  if (top['sign'] !== undefined) reply.sign = top['sign']
  if (top['sign_type'] !== undefined) reply.signType = top['sign_type']
  return reply
}

/** Escapes text for an XML element body or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`)
}

/** Everything the gateway may put in a reply, in the order it writes it. */
export interface GatewayReplyContent {
  isSuccess: boolean | 'P'
  error?: string | undefined
  request?: Params | undefined
  /** `<response><trade>` children; written in alphabetical order, as the real gateway does. */
  trade?: Params | undefined
  sign?: string | undefined
  signType?: string | undefined
  charset?: string | undefined
}

/** Writes a gateway XML reply, compact like the real ones (mapi-protocol §8, mapi-protocol §12). */
export function renderGatewayReply(content: GatewayReplyContent): string {
  const flag = content.isSuccess === 'P' ? 'P' : content.isSuccess ? 'T' : 'F'
  let body = `<is_success>${flag}</is_success>`
  if (content.error) body += `<error>${escapeXml(content.error)}</error>`
  if (content.request) {
    body += '<request>'
    for (const [name, value] of Object.entries(content.request)) {
      body += `<param name="${escapeXml(name)}">${escapeXml(value)}</param>`
    }
    body += '</request>'
  }
  if (content.trade) {
    body += '<response><trade>'
    for (const key of Object.keys(content.trade).sort())
      body += `<${key}>${escapeXml(content.trade[key] ?? '')}</${key}>`
    body += '</trade></response>'
  }
  if (content.sign) body += `<sign>${escapeXml(content.sign)}</sign>`
  if (content.signType) body += `<sign_type>${escapeXml(content.signType)}</sign_type>`
  return `<?xml version="1.0" encoding="${content.charset ?? 'utf-8'}"?>\n<alipay>${body}</alipay>`
}
