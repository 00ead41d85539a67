import { certificateSn, rootCertificateSn, type Params } from '@alipay-payment-handler/protocol'
import type { OpenapiApp, ResolvedConfig } from './config.js'
import { failure, type OpenapiFailure } from './openapi-reply.js'

/**
 * The gateway's side of certificate mode (openapi-protocol §3.6). An app configured with an
 * `appCert` is in certificate mode: its requests must name that certificate (`app_cert_sn`) and
 * the root file (`alipay_root_cert_sn`), are verified with the certificate's key, and its replies
 * and notifications are signed with the newest of `alipayCertificates`, whose SN each reply
 * names in `alipay_cert_sn`. The sub-codes of a wrong SN are the sandbox's own [sandbox].
 */

const snCache = new Map<string, string>()
const sn = (pem: string, root = false): string => {
  const key = `${root ? 'root' : 'cert'}:${pem}`
  let value = snCache.get(key)
  if (value === undefined) {
    value = root ? rootCertificateSn(pem) : certificateSn(pem)
    snCache.set(key, value)
  }
  return value
}

/** The Alipay certificate that signs now: the last one configured. */
function currentCertificate(config: ResolvedConfig): { cert: string; privateKey: string } | undefined {
  return config.alipayCertificates?.certs.at(-1)
}

/** Whether the app is in certificate mode (and the sandbox has certificates to sign with). */
export function inCertMode(config: ResolvedConfig, app: OpenapiApp): boolean {
  return app.appCert !== undefined && currentCertificate(config) !== undefined
}

/** The key text that verifies the app's requests: its certificate (protocol takes the key out of it), or its public key. */
export function appVerifyKey(config: ResolvedConfig, app: OpenapiApp): string {
  return inCertMode(config, app) ? app.appCert! : app.publicKey
}

/** The key that signs replies and notifications for this app. */
export function gatewaySigningKey(config: ResolvedConfig, app: OpenapiApp | undefined): string {
  return app && inCertMode(config, app) ? currentCertificate(config)!.privateKey : config.gatewayKeys.privateKey
}

/** `alipay_cert_sn` of this app's replies; undefined outside certificate mode. */
export function replyCertSn(config: ResolvedConfig, app: OpenapiApp): string | undefined {
  return inCertMode(config, app) ? sn(currentCertificate(config)!.cert) : undefined
}

/** Checks the certificate SNs of a request of a certificate-mode app (after the signature check order's common fields). */
export function certModeRefusal(config: ResolvedConfig, app: OpenapiApp, params: Params): OpenapiFailure | undefined {
  if (!inCertMode(config, app)) return undefined
  const appSn = params['app_cert_sn']
  const rootSn = params['alipay_root_cert_sn']
  if (!appSn) return failure('40001', 'isv.missing-app-cert-sn', '缺少应用公钥证书序列号')
  if (!rootSn) return failure('40001', 'isv.missing-alipay-root-cert-sn', '缺少支付宝根证书序列号')
  if (appSn !== sn(app.appCert!)) return failure('40002', 'isv.invalid-app-cert-sn', '应用公钥证书序列号不匹配')
  if (rootSn !== sn(config.alipayCertificates!.rootCert, true))
    return failure('40002', 'isv.invalid-alipay-root-cert-sn', '支付宝根证书序列号不匹配')
  return undefined
}

/** `alipay.open.app.alipaycert.download`: the certificate of an SN, base64 of its PEM text. */
export function alipayCertDownload(
  config: ResolvedConfig,
  biz: Record<string, unknown>,
): { failure: OpenapiFailure } | { fields: Record<string, unknown> } {
  const wanted = biz['alipay_cert_sn']
  if (typeof wanted !== 'string' || wanted === '')
    return { failure: failure('40004', 'isv.invalid-arguments', 'alipay_cert_sn不能为空') }
  const found = config.alipayCertificates?.certs.find((c) => sn(c.cert) === wanted)
  if (!found) return { failure: failure('40004', 'isv.cert-not-exist', '证书不存在') }
  return { fields: { alipay_cert_content: Buffer.from(found.cert, 'utf8').toString('base64') } }
}
