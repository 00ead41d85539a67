import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { certificateSn, pemCertificates, readCertificate, rootCertificateSn } from './cert-sn.js'

interface CertVector {
  kind: string
  cert_pem: string
  issuer_reversed: string
  serial_decimal: string
  expected_sn: string
}
const vector = (
  JSON.parse(readFileSync(new URL('../../../tests/vectors/openapi.json', import.meta.url), 'utf8')) as {
    vectors: CertVector[]
  }
).vectors.find((v) => v.kind === 'cert-sn')!

describe('certificate SN (openapi certificate mode)', () => {
  test('reads issuer and serial exactly as the vector says', () => {
    const fields = readCertificate(pemCertificates(vector.cert_pem)[0]!)
    expect(fields.issuerReversed).toBe(vector.issuer_reversed)
    expect(fields.serialDecimal).toBe(vector.serial_decimal)
    expect(fields.signatureAlgorithm.startsWith('1.2.840.113549.1.1')).toBe(true)
  })

  test('computes the expected SN', () => {
    expect(certificateSn(vector.cert_pem)).toBe(vector.expected_sn)
  })

  test('agrees with Node X509Certificate on the serial', () => {
    const x509 = new X509Certificate(vector.cert_pem)
    expect(BigInt(`0x${x509.serialNumber}`).toString(10)).toBe(vector.serial_decimal)
  })

  test('a root file joins the SNs of its RSA certificates with _', () => {
    expect(rootCertificateSn(`${vector.cert_pem}\n${vector.cert_pem}`)).toBe(
      `${vector.expected_sn}_${vector.expected_sn}`,
    )
  })

  test('text without a certificate is a KEY_FORMAT error', () => {
    expect(() => certificateSn('nothing here')).toThrow(expect.objectContaining({ code: 'KEY_FORMAT' }))
  })
})
