// `npm run verify -- [options] <message>`: says whether a gateway message verifies and, if not, why.
// The message is a raw query string or URL, a form body, a gateway XML reply or a JSON
// AlipayPaymentResponse; `-` (or nothing) reads it from standard input.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  decodeForm,
  diagnoseSignature,
  formatDiagnosis,
  parseGatewayReply,
  type KeyRing,
} from '@alipay-payment-handler/protocol'
import { DEMO_GATEWAY_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

const USAGE = `usage: npm run verify -- [--demo] [--md5-key-env NAME] [--md5-key-file F] [--public-key-file F] [--charset cs] <message | ->
  --demo             use the demo partner's MD5 key and the sandbox gateway's public key
  --md5-key-env      read the MD5 key from this environment variable (keeps it out of shell history)
  --md5-key-file     read the MD5 key from a file
  --public-key-file  the Alipay (gateway) public key, PEM or bare base64`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    demo: { type: 'boolean' },
    'md5-key-env': { type: 'string' },
    'md5-key-file': { type: 'string' },
    'public-key-file': { type: 'string' },
    charset: { type: 'string' },
    help: { type: 'boolean' },
  },
})

if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const keys: KeyRing = values.demo ? { md5Key: DEMO_PARTNER.md5Key, publicKey: DEMO_GATEWAY_RSA.publicKey } : {}
if (values['md5-key-env']) keys.md5Key = process.env[values['md5-key-env']]
if (values['md5-key-file']) keys.md5Key = readFileSync(values['md5-key-file'], 'utf8').trim()
if (values['public-key-file']) keys.publicKey = readFileSync(values['public-key-file'], 'utf8')
if (!keys.md5Key && !keys.publicKey) {
  console.error(`[alipay] no key given.\n${USAGE}`)
  process.exit(2)
}

const input = (positionals[0] === undefined || positionals[0] === '-' ? readFileSync(0, 'utf8') : positionals[0]).trim()
const charset = values.charset ?? 'utf-8'

/** Turns any accepted input into the parameter set whose signature is checked. */
function toParams(text: string): { params: Record<string, string>; alsoExclude?: string[] } {
  if (text.startsWith('<')) {
    const reply = parseGatewayReply(text)
    if (!reply.trade) throw new Error('the XML reply has no <trade> block to verify')
    return { params: { ...reply.trade, sign: reply.sign ?? '', sign_type: reply.signType ?? '' } }
  }
  if (text.startsWith('{')) {
    const json = JSON.parse(text) as Record<string, unknown>
    const params = Object.fromEntries(Object.entries(json).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >
    return { params, alsoExclude: 'success' in params ? ['success'] : [] }
  }
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text
  return { params: decodeForm(query, charset) }
}

try {
  const { params, alsoExclude } = toParams(input)
  const diagnosis = await diagnoseSignature(params, { keys, charset, ...(alsoExclude ? { alsoExclude } : {}) })
  console.log(formatDiagnosis(diagnosis))
  process.exit(diagnosis.verified ? 0 : 1)
} catch (error) {
  console.error(`[alipay] cannot read the message: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(2)
}
