import type { Context } from 'hono'
import {
  decodeForm,
  normalizeCharset,
  OPENAPI_COUNTER_METHODS,
  OPENAPI_METHODS,
  openapiRequestString,
  parseBeijingTime,
  verifyOpenapiRequest,
  type Charset,
  type OpenapiMethod,
  type Params,
} from '@alipay-payment-handler/protocol'
import { appVerifyKey, certModeRefusal } from './cert-mode.js'
import type { OpenapiApp } from './config.js'
import type { SandboxDeps } from './deps.js'
import { failure, type OpenapiFailure } from './openapi-reply.js'

/**
 * Methods the gateway answers: all of the kit's (openapi-protocol §5), plus barcode pay and create.
 * `alipay.trade.app.pay` is no server call: its order string goes to the app page (/app/pay).
 */
const IMPLEMENTED_METHODS: readonly string[] = [
  ...Object.values(OPENAPI_METHODS),
  OPENAPI_COUNTER_METHODS.pay,
  OPENAPI_COUNTER_METHODS.create,
]

/** A method the gateway endpoint answers. */
export type GatewayMethod = OpenapiMethod | typeof OPENAPI_COUNTER_METHODS.pay | typeof OPENAPI_COUNTER_METHODS.create

/** Methods the browser submits; their failures are HTML pages, never JSON (openapi-protocol §10.3). */
export const OPENAPI_PAGE_METHODS: readonly string[] = [OPENAPI_METHODS.pagePay, OPENAPI_METHODS.wapPay]

/** A request that passed every common check: its app, method, parameters and parsed biz_content. */
export interface OpenapiRequest {
  app: OpenapiApp
  /** `alipay.trade.app.pay` arrives only through the app page, never at the gateway endpoint. */
  method: GatewayMethod | typeof OPENAPI_COUNTER_METHODS.appPay
  /** The request's charset: its reply and notifications use it too. */
  charset: Charset
  params: Params
  biz: Record<string, unknown>
}

/**
 * Where a reply goes: under `<method>_response` once the method is known, signed once the app is
 * too; `error_response` (unsigned) only for an unknown method (openapi-protocol §10.2).
 */
export interface ReplyTarget {
  method: string
  app: OpenapiApp | undefined
  charset?: Charset | undefined
}

/** A refused request; `target` is set once the method is known. */
export interface OpenapiRefusal {
  failure: OpenapiFailure
  method: string | undefined
  target: ReplyTarget | undefined
}

/** Raw `key=value` pairs, keys only, without decoding values (keys are ASCII). */
function rawKeys(raw: string): Set<string> {
  const keys = new Set<string>()
  for (const part of raw.split('&')) if (part !== '') keys.add(part.split('=')[0]!)
  return keys
}

function rawValue(raw: string, key: string): string | undefined {
  for (const part of raw.split('&')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq) === key) {
      try {
        return decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '))
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

async function rawParts(c: Context): Promise<{ query: string; body: string }> {
  const query = new URL(c.req.url).search.slice(1)
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const body = c.req.method === 'POST' && type === 'application/x-www-form-urlencoded' ? await c.req.text() : ''
  return { query, body }
}

/** Whether a `/gateway.do` request is an openapi one: `method` and `app_id`, no `service`. */
export async function isOpenapiRequest(c: Context): Promise<boolean> {
  const { query, body } = await rawParts(c)
  const keys = new Set([...rawKeys(query), ...rawKeys(body)])
  return keys.has('method') && keys.has('app_id') && !keys.has('service')
}

const MISSING: readonly (readonly [param: string, subCode: string])[] = [
  ['method', 'isv.missing-method'],
  ['app_id', 'isv.missing-app-id'],
  ['sign', 'isv.missing-signature'],
  ['sign_type', 'isv.missing-signature-type'],
  ['timestamp', 'isv.missing-timestamp'],
  ['version', 'isv.missing-version'],
  ['charset', 'isv.missing-charset'],
]

/**
 * Decodes an openapi request (query and body merged; `charset` read from the query first) and
 * runs the common checks in the order of openapi-protocol §10.2, up to and including biz_content.
 */
export async function readOpenapiRequest(c: Context, deps: SandboxDeps): Promise<OpenapiRequest | OpenapiRefusal> {
  const { query, body } = await rawParts(c)
  const declared = rawValue(query, 'charset') ?? rawValue(body, 'charset')
  const charset: Charset = (declared && normalizeCharset(declared)) || 'utf-8'
  let params: Params
  try {
    params = decodeForm(query, charset)
    for (const [key, value] of Object.entries(decodeForm(body, charset))) {
      if (Object.hasOwn(params, key) && params[key] !== value) {
        return refuse(params, undefined, failure('40002', 'isv.invalid-parameter', `参数${key}重复且取值不同`))
      }
      params[key] = value
    }
  } catch {
    return refuse({}, undefined, failure('40002', 'isv.invalid-parameter', '请求参数无法解码'))
  }
  const method = params['method']
  const app = deps.config.apps.find((a) => a.appId === params['app_id'])
  const known = IMPLEMENTED_METHODS.includes(method ?? '')
  const target = known ? { method: method!, app, charset } : undefined
  for (const [param, subCode] of MISSING)
    if (!params[param]) return refuse(params, target, failure('40001', subCode, `缺少必选参数${param}`))
  if (!known) return refuse(params, undefined, failure('40002', 'isv.invalid-method', '不存在的方法名'))
  // An unknown app is answered under the method's key, unsigned, as the real gateway does.
  if (!app) return refuse(params, target, failure('40002', 'isv.invalid-app-id', '无效的AppID参数'))
  const signType = app.signType ?? 'RSA2'
  if (params['sign_type'] !== signType)
    return refuse(params, target, failure('40002', 'isv.invalid-signature-type', '无效的签名类型'))
  if (!normalizeCharset(params['charset']!) || !/^(utf-8|gbk|gb2312)$/i.test(params['charset']!))
    return refuse(params, target, failure('40002', 'isv.invalid-charset', '字符集错误'))
  if (params['format'] !== undefined && params['format'].toUpperCase() !== 'JSON')
    return refuse(params, target, failure('40002', 'isv.invalid-format', '无效的数据格式'))
  if (params['version'] !== '1.0')
    return refuse(params, target, failure('40002', 'isv.invalid-parameter', '无效的版本号version'))
  const tolerance = deps.config.openapiTimestampToleranceSeconds
  const at = parseBeijingTime(params['timestamp']!)
  if (!at || (tolerance > 0 && Math.abs(at.getTime() - deps.clock.now()) > tolerance * 1000))
    return refuse(params, target, failure('40002', 'isv.invalid-timestamp', '非法的时间戳参数'))
  const certRefusal = certModeRefusal(deps.config, app, params)
  if (certRefusal) return refuse(params, target, certRefusal)
  const hasEmpty = Object.values(params).some((value) => value === '')
  const verifyKey = appVerifyKey(deps.config, app)
  let verified = (await verifyOpenapiRequest(params, verifyKey)).ok
  if (!verified && hasEmpty) verified = (await verifyOpenapiRequest(params, verifyKey, { keepEmpty: true })).ok
  if (!verified) {
    const rebuilt = openapiRequestString(params).replace(/&/g, '&amp;')
    return refuse(
      params,
      target,
      failure(
        '40002',
        'isv.invalid-signature',
        `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${rebuilt}`,
      ),
    )
  }
  let biz: unknown
  try {
    biz = JSON.parse(params['biz_content'] ?? '')
  } catch {
    biz = undefined
  }
  if (typeof biz !== 'object' || biz === null || Array.isArray(biz))
    return refuse(params, target, failure('40002', 'isv.invalid-parameter', 'biz_content不是JSON对象'))
  return { app, method: method as GatewayMethod, charset, params, biz: biz as Record<string, unknown> }
}

function refuse(params: Params, target: OpenapiRefusal['target'], reason: OpenapiFailure): OpenapiRefusal {
  return { failure: reason, method: params['method'], target }
}

/** Narrows the result of readOpenapiRequest. */
export function isOpenapiRefusal(value: OpenapiRequest | OpenapiRefusal): value is OpenapiRefusal {
  return 'failure' in value
}
