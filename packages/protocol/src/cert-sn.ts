import { base64ToBytes } from './base64.js'
import { children, oidToString, readTlv, type Tlv } from './der.js'
import { encodeText } from './charset.js'
import { ProtocolError } from './errors.js'
import { md5Hex } from './sign.js'

/** RFC 2253 short names of the attribute types found in Alipay's certificates. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
}

/** Signature algorithms of RSA-signed certificates share this OID prefix (openapi-protocol §3.6). */
const RSA_SIGNATURE_PREFIX = '1.2.840.113549.1.1'

/** Every certificate in a PEM file, as DER. */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    const der = base64ToBytes((m[1] ?? '').replace(/\s+/g, ''))
    if (!der) throw new ProtocolError('KEY_FORMAT', 'a certificate is not valid base64')
    out.push(der)
  }
  if (out.length === 0) throw new ProtocolError('KEY_FORMAT', 'no certificate found in the PEM text')
  return out
}

function decodeString(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.start + tlv.length)
  if (tlv.tag === 0x1e) {
    // BMPString: UTF-16BE.
    let text = ''
    for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!)
    return text
  }
  return new TextDecoder().decode(bytes)
}

/** RFC 2253 escaping of an attribute value. */
function escapeValue(value: string): string {
  return value
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ')
}

interface CertificateFields {
  serialDecimal: string
  issuerReversed: string
  signatureAlgorithm: string
}

/** Reads serial number, issuer (RDNs reversed, RFC 2253) and signature algorithm of a certificate. */
export function readCertificate(der: Uint8Array): CertificateFields {
  const cert = readTlv(der, 0)
  const [tbs, signatureAlgorithm] = children(der, cert)
  if (!tbs || !signatureAlgorithm) throw new ProtocolError('KEY_FORMAT', 'not an X.509 certificate')
  const fields = children(der, tbs)
  let i = fields[0]?.tag === 0xa0 ? 1 : 0 // optional [0] version
  const serial = fields[i++]
  i++ // signature AlgorithmIdentifier inside tbs
  const issuer = fields[i]
  if (!serial || serial.tag !== 0x02 || !issuer || issuer.tag !== 0x30)
    throw new ProtocolError('KEY_FORMAT', 'not an X.509 certificate')
  let serialValue = 0n
  for (const byte of der.subarray(serial.start, serial.start + serial.length))
    serialValue = serialValue * 256n + BigInt(byte)
  const rdns = children(der, issuer).map((set) =>
    children(der, set)
      .map((attribute) => {
        const [type, value] = children(der, attribute)
        if (!type || !value) throw new ProtocolError('KEY_FORMAT', 'malformed issuer name')
        const oid = oidToString(der, type)
        return `${ATTRIBUTE_NAMES[oid] ?? oid}=${escapeValue(decodeString(der, value))}`
      })
      .join('+'),
  )
  const [algorithmOid] = children(der, signatureAlgorithm)
  return {
    serialDecimal: serialValue.toString(10),
    issuerReversed: rdns.reverse().join(','),
    signatureAlgorithm: algorithmOid ? oidToString(der, algorithmOid) : '',
  }
}

/**
 * The certificate SN Alipay's certificate mode sends as `app_cert_sn`: lower-case hex MD5 of the
 * issuer DN (RDNs reversed) followed by the decimal serial number (openapi-protocol §3.6).
 */
export function certificateSn(pem: string): string {
  const [first] = pemCertificates(pem)
  const fields = readCertificate(first!)
  return md5Hex(encodeText(fields.issuerReversed + fields.serialDecimal, 'utf-8'))
}

/** `alipay_root_cert_sn`: the SNs of the RSA-signed certificates of the root file, joined with `_`. */
export function rootCertificateSn(pem: string): string {
  return pemCertificates(pem)
    .map(readCertificate)
    .filter((c) => c.signatureAlgorithm.startsWith(RSA_SIGNATURE_PREFIX))
    .map((c) => md5Hex(encodeText(c.issuerReversed + c.serialDecimal, 'utf-8')))
    .join('_')
}
