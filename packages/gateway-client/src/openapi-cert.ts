import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  OPENAPI_METHODS,
  certificateSn,
  pemCertificates,
  rootCertificateSn,
  verifyOpenapiReply,
  type OpenapiSignType,
} from '@alipay-payment-handler/protocol'
import { GatewayError } from './gateway-error.js'

/**
 * Alipay's certificate mode on openapi (openapi-protocol §3.6): requests carry `app_cert_sn` and
 * `alipay_root_cert_sn`, replies name the certificate they were signed under in `alipay_cert_sn`,
 * and the gateway's public key is the one inside Alipay's public key certificate. When a reply
 * names another certificate (Alipay renewed it), the new one is fetched with
 * `alipay.open.app.alipaycert.download` and accepted only if it chains to the configured root.
 */

/** The three files of certificate mode, each as PEM text or a path to a PEM file. */
export interface OpenapiCertificateFiles {
  /** The app's public key certificate (`appCertPublicKey_<appid>.crt`). */
  appCert: string
  /** Alipay's public key certificate (`alipayCertPublicKey_RSA2.crt`): leaf and its issuing CA. */
  alipayCert: string
  /** Alipay's root certificates (`alipayRootCert.crt`). */
  rootCert: string
}

/** Certificate mode's state: the SNs to send, and the gateway certificates known so far. */
export interface OpenapiCertificates {
  readonly appCertSn: string
  readonly rootCertSn: string
  /** The SN of the certificate whose key verifies replies and notifications now. */
  readonly alipayCertSn: string
  /** Its public key (SPKI PEM). */
  readonly publicKey: string
  /** The key of a known certificate, by SN. */
  keyOf(sn: string): string | undefined
  /**
   * Checks a certificate file (leaf first) against the root and remembers it. Throws
   * GATEWAY_BAD_SIGNATURE when it does not chain to the root or is not valid now.
   */
  accept(pem: string, now?: Date): { sn: string; publicKey: string }
  /** Makes an accepted certificate the current one. */
  use(sn: string): void
}

/** PEM text as given, or the contents of the file it names. */
export function readCertificateSetting(value: string): string {
  return value.includes('-----BEGIN CERTIFICATE-----') ? value : readFileSync(value, 'utf8')
}

/** The public key (SPKI PEM) of the first certificate of a PEM text. */
export function certificatePublicKey(pem: string): string {
  return new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'pem' }).toString()
}

function certificatesOf(pem: string): X509Certificate[] {
  return pemCertificates(pem).map((der) => new X509Certificate(Buffer.from(der)))
}

const bad = (message: string) => new GatewayError('GATEWAY_BAD_SIGNATURE', OPENAPI_METHODS.certDownload, message)

/** Whether `chain` (leaf first) leads, certificate by certificate, to one of `roots`, all valid at `now`. */
export function chainsToRoot(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): boolean {
  const valid = (c: X509Certificate) =>
    Date.parse(c.validFrom) <= now.getTime() && now.getTime() <= Date.parse(c.validTo)
  const issuedBy = (cert: X509Certificate, issuer: X509Certificate) =>
    valid(issuer) && cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  for (const [i, cert] of chain.entries()) {
    if (!valid(cert)) return false
    if (roots.some((root) => root.fingerprint256 === cert.fingerprint256)) return true
    const next = chain[i + 1]
    if (next) {
      if (!issuedBy(cert, next)) return false
      continue
    }
    return roots.some((root) => issuedBy(cert, root))
  }
  return false
}

/** Loads the three files and checks that Alipay's certificate chains to the root. */
export function loadOpenapiCertificates(files: OpenapiCertificateFiles, now = new Date()): OpenapiCertificates {
  const appCert = readCertificateSetting(files.appCert)
  const alipayCert = readCertificateSetting(files.alipayCert)
  const rootCert = readCertificateSetting(files.rootCert)
  const roots = certificatesOf(rootCert)
  const known = new Map<string, string>()
  let current = { sn: '', publicKey: '' }
  const state: OpenapiCertificates = {
    appCertSn: certificateSn(appCert),
    rootCertSn: rootCertificateSn(rootCert),
    get alipayCertSn() {
      return current.sn
    },
    get publicKey() {
      return current.publicKey
    },
    keyOf: (sn) => known.get(sn),
    use(sn) {
      const publicKey = known.get(sn)
      if (publicKey) current = { sn, publicKey }
    },
    accept(pem, at = new Date()) {
      let chain: X509Certificate[]
      try {
        chain = certificatesOf(pem)
      } catch (error) {
        throw bad(`not a certificate: ${(error as Error).message}`)
      }
      if (!chainsToRoot(chain, roots, at)) throw bad('the certificate does not chain to the configured Alipay root')
      const entry = { sn: certificateSn(pem), publicKey: certificatePublicKey(pem) }
      known.set(entry.sn, entry.publicKey)
      return entry
    },
  }
  current = state.accept(alipayCert, now)
  return state
}

/** The common parameters certificate mode adds to every request. */
export function certificateParams(certs: OpenapiCertificates): Record<string, string> {
  return { app_cert_sn: certs.appCertSn, alipay_root_cert_sn: certs.rootCertSn }
}

/** `alipay_cert_sn` of a reply body, if it names one. */
export function replyCertSn(body: string): string | undefined {
  try {
    const sn = (JSON.parse(body) as Record<string, unknown>)['alipay_cert_sn']
    return typeof sn === 'string' && sn !== '' ? sn : undefined
  } catch {
    return undefined
  }
}

/**
 * The key that verifies a reply: the current certificate's, or, when the reply names another
 * certificate, that one's, fetched (once) with `alipay.open.app.alipaycert.download` through
 * `download` (which returns the raw reply body). The new certificate becomes the current one
 * only after it chained to the root and the download reply verified under its own key.
 */
export async function replyKey(
  certs: OpenapiCertificates,
  body: string,
  method: string,
  signType: OpenapiSignType,
  download: (sn: string) => Promise<string>,
): Promise<string> {
  const sn = replyCertSn(body)
  if (!sn || sn === certs.alipayCertSn) return certs.publicKey
  const knownKey = certs.keyOf(sn)
  if (knownKey) return knownKey
  const downloadMethod = OPENAPI_METHODS.certDownload
  const reply = await download(sn)
  let content: unknown
  try {
    const parsed = JSON.parse(reply) as Record<string, Record<string, unknown> | undefined>
    content = parsed[`${downloadMethod.replace(/\./g, '_')}_response`]?.['alipay_cert_content']
  } catch {
    content = undefined
  }
  if (typeof content !== 'string')
    throw new GatewayError(
      'GATEWAY_MALFORMED_REPLY',
      method,
      `the reply names certificate ${sn}, which could not be downloaded`,
    )
  const pem = Buffer.from(content, 'base64').toString('utf8')
  const accepted = certs.accept(pem)
  if (accepted.sn !== sn) throw bad(`the downloaded certificate is ${accepted.sn}, not ${sn}`)
  const verified = await verifyOpenapiReply(reply, downloadMethod, { publicKey: accepted.publicKey }, signType)
  if (!verified.ok) throw bad(`the certificate download reply does not verify: ${verified.reason}`)
  certs.use(sn)
  return accepted.publicKey
}
