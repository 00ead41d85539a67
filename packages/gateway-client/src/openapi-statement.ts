import {
  OPENAPI_METHODS,
  parseBillDate,
  parseStatement,
  type BillType,
  type StatementRow,
} from '@alipay-payment-handler/protocol'
import { GatewayError } from './gateway-error.js'
import type { OpenapiClient } from './openapi-client.js'
import { timeoutSignal } from './timeout-signal.js'

/** Which statement to fetch: `bill_type` (default `trade`) and `bill_date` (`yyyy-MM-dd` or `yyyy-MM`). */
export interface StatementRequest {
  billType?: BillType
  billDate: string
}

/** A statement's download URL, from `alipay.data.dataservice.bill.downloadurl.query` (openapi-protocol §15). */
export async function statementDownloadUrl(client: OpenapiClient, request: StatementRequest): Promise<string> {
  const method = OPENAPI_METHODS.billDownloadUrl
  if (!parseBillDate(request.billDate)) {
    throw new GatewayError('GATEWAY_REFUSED', method, `bill_date "${request.billDate}" is not yyyy-MM-dd or yyyy-MM`, {
      gatewayCode: 'isv.invalid-arguments',
    })
  }
  const result = await client.call(method, { bill_type: request.billType ?? 'trade', bill_date: request.billDate })
  if (!result.ok) {
    const code = result.subCode ?? result.code
    throw new GatewayError(
      'GATEWAY_REFUSED',
      method,
      `refused with ${code}${result.subMsg ? ` (${result.subMsg})` : ''}`,
      {
        gatewayCode: code,
      },
    )
  }
  const url = result.response['bill_download_url']
  if (typeof url !== 'string' || !/^https?:\/\//.test(url))
    throw new GatewayError('GATEWAY_MALFORMED_REPLY', method, 'success reply without bill_download_url')
  return url
}

/** How long the whole download may take: a month of a busy shop is a few megabytes. */
const DOWNLOAD_TIMEOUT_MS = 120_000

/**
 * The statement's rows, streamed: asks for the URL (it lives about 30 seconds), downloads it
 * at once and parses while the body arrives. The URL itself is unsigned; the reply that named it was.
 */
export async function* openapiStatementRows(
  client: OpenapiClient,
  request: StatementRequest,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): AsyncGenerator<StatementRow> {
  const url = await statementDownloadUrl(client, request)
  const method = OPENAPI_METHODS.billDownloadUrl
  const doFetch = options.fetch ?? fetch
  let response: Response
  try {
    response = await doFetch(url, { signal: timeoutSignal(options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS) })
  } catch (cause) {
    const code = cause instanceof Error && cause.name === 'TimeoutError' ? 'GATEWAY_TIMEOUT' : 'GATEWAY_UNAVAILABLE'
    throw new GatewayError(code, method, `statement download failed: ${String(cause)}`)
  }
  if (!response.ok || !response.body)
    throw new GatewayError('GATEWAY_UNAVAILABLE', method, `statement download answered HTTP ${response.status}`, {
      httpStatus: response.status,
    })
  yield* parseStatement(response.body)
}
