export { bytesToBase64, base64ToBytes } from './base64.js'
export { GATEWAY_CHARSETS, normalizeCharset, encodeText, decodeText, type Charset } from './charset.js'
export { DIAGNOSTIC_PREFIX, ProtocolError, ValidationError, type ProtocolErrorCode, type FieldIssue } from './errors.js'
export { encodeForm, decodeForm, decodeNotify, type DecodedNotify, type Params } from './form.js'
export { importPrivateKey, importPublicKey, assertKeyUsable, readKey, type KeyKind, type RsaSignType } from './keys.js'
export {
  ALIPAY_METHOD,
  APP_PAY_SERVICE,
  PC_PAY_SERVICE,
  WAP_PAY_SERVICE,
  MAPI_SERVICES,
  TRADE_STATUSES,
  isPaidStatus,
  NOTIFY_ACK,
  NOTIFY_RETRY_GAPS_SECONDS,
  RETURN_NOTIFY_ID_LIFETIME_SECONDS,
  GATEWAY_ERROR_CODES,
  type TradeStatus,
  type GatewayErrorCode,
} from './mapi.js'
export {
  isAmountString,
  toFen,
  fromFen,
  normalizeAmount,
  amountsEqual,
  compareAmounts,
  isAmountInRange,
  addAmounts,
  subtractAmounts,
  MIN_AMOUNT_FEN,
  MAX_AMOUNT_FEN,
} from './money.js'
export { generateOrderId, orderIdTime, ORDER_ID_PATTERN } from './order-id.js'
export { verifyTradeReply } from './query-reply.js'
export {
  buildPaymentResponse,
  buildOpenapiPaymentResponse,
  isOpenapiResponse,
  verifyPaymentResponse,
  RESPONSE_UNSIGNED_KEYS,
  OPENAPI_RESPONSE_UNSIGNED_KEYS,
  OPENAPI_RESPONSE_MARKER,
} from './response.js'
export {
  ALIPAY_USER_ID,
  OUT_TRADE_NO,
  parseItBPay,
  itBPayDeadline,
  parseRelativeTimeout,
  relativeTimeoutMs,
  relativeMinutesUntil,
  toTimeoutExpress,
  isNotifyUrl,
  isSellerAccount,
  charLength,
  type ItBPay,
  type RelativeTimeout,
} from './rules.js'
export {
  buildRefundDetail,
  parseRefundDetails,
  buildRefundResults,
  parseRefundResults,
  cleanRefundReason,
  type RefundDetail,
  type RefundResult,
  type ParsedRefundResult,
} from './refund-batch.js'
export { SUBJECT_MAX_LENGTH, cleanOpenapiSubject, isOpenapiSubject, fitSubject } from './subject.js'
export {
  SIGN_TYPES,
  isSignType,
  md5Hex,
  md5Sign,
  constantTimeEqual,
  signString,
  verifyString,
  signParams,
  verifyParams,
  type SignType,
  type KeyRing,
  type VerifyFailure,
  type VerifyResult,
  type SignOptions,
  type VerifyOptions,
} from './sign.js'
export { stringToSign, pickStrings, MAPI_UNSIGNED_KEYS } from './string-to-sign.js'
export { formatBeijingTime, compactBeijingTime, parseBeijingTime } from './time.js'
export type {
  PaymentMethodSpecificData,
  AlipayPaymentResponse,
  MapiCommonParams,
  MapiPayRequest,
  MapiReturnParams,
  MapiNotifyParams,
  MapiRefundNotifyParams,
} from './types.js'
export { REQUIRED_METHOD_DATA_FIELDS, REQUIRED_RESPONSE_FIELDS } from './types.js'
export { checkPaymentMethodData, validatePaymentMethodData, checkPayRequest, type GatewayRefusal } from './validate.js'
export {
  parseGatewayReply,
  renderGatewayReply,
  escapeXml,
  MAX_REPLY_BYTES,
  type GatewayReply,
  type GatewayReplyContent,
} from './xml.js'
export {
  parseWindowMessage,
  parseOpenerMessage,
  cancelledDetails,
  isCancelledDetails,
  type CancelReason,
  type CancelledDetails,
  type CheckoutRequest,
  type CheckoutOutcome,
  type WindowToOpener,
  type OpenerToWindow,
} from './messages.js'
export {
  ALIPAY_FAILURE_REASONS,
  alipayFailureReason,
  failureMessage,
  failureReasonOfCode,
  failureReasonOfOutcome,
  type AlipayFailureReason,
} from './failure-reasons.js'
export {
  diagnoseSignature,
  formatDiagnosis,
  type Diagnosis,
  type DiagnosisFinding,
  type DiagnosisHint,
  type DiagnoseOptions,
} from './diagnose.js'
export {
  openapiRequestString,
  openapiNotifyString,
  signOpenapiRequest,
  verifyOpenapiRequest,
  signOpenapiNotify,
  verifyOpenapiNotify,
  verifyOpenapiReply,
  extractMemberText,
  responseKeyOf,
  bizContent,
  type OpenapiSignType,
  type OpenapiReply,
  type OpenapiReplyResult,
} from './openapi.js'
export {
  OPENAPI_METHODS,
  OPENAPI_PRODUCT_CODES,
  type OpenapiMethod,
  type OpenapiProductCode,
} from './openapi-methods.js'
export { useNativeCrypto } from './native-crypto.js'
export { certificateSn, rootCertificateSn, readCertificate, pemCertificates } from './cert-sn.js'
export { missingFields, signatureIsGatewayProof, type MessageKind } from './message-shapes.js'
export {
  SESSION_REVOKE_MAX_SKEW_MS,
  SESSION_REVOKE_SERVICE,
  checkSessionRevoke,
  sessionRevokeParams,
  type SessionRevokeShape,
} from './session-revoke.js'
export {
  BILL_TYPES,
  TRADE_DETAIL_COLUMNS,
  TRADE_SUMMARY_COLUMNS,
  ACCOUNT_DETAIL_COLUMNS,
  ACCOUNT_SUMMARY_COLUMNS,
  parseBillDate,
  parseStatement,
  statementAmount,
  statementFileNames,
  buildStatementZip,
  type BillType,
  type BillPeriod,
  type TradeDetailRow,
  type AccountDetailRow,
  type StatementRow,
  type StatementEntry,
  type StatementInput,
} from './statement.js'
export {
  OPENAPI_COUNTER_METHODS,
  OPENAPI_COUNTER_PRODUCT_CODES,
  BAR_CODE_SCENE,
  type OpenapiCounterMethod,
} from './openapi-methods.js'
export {
  BUYER_AUTH_CODE,
  BARCODE_POLL_INTERVAL_MS,
  BARCODE_TIME_LIMIT_MS,
  classifyBarcodeReply,
  barcodeQueryOutcome,
  type BarcodeReplyKind,
} from './barcode.js'
export {
  buildOpenapiAppOrderString,
  verifyOpenapiAppOrderString,
  isSecuritypayOrderString,
  securitypayString,
  buildSecuritypayOrderString,
  parseSecuritypayOrderString,
  verifySecuritypayOrderString,
  type ParsedSecuritypayOrder,
} from './app-order-string.js'
