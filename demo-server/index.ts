export {
  createSigningServerApp,
  createSigningServer,
  startSigningServer,
  type SigningServerAppDeps,
  type SigningServerConfig,
  type SigningServer,
  type RunningSigningServer,
  type HandlerAssets,
} from './signing-server'
export {
  createMapiClient,
  type MapiClient,
  type MapiClientOptions,
  type PayRequest,
  type TradeQueryResult,
} from './mapi-client'
export { GatewayError, type GatewayErrorCode } from './gateway-error'
export {
  createOpenapiClient,
  type OpenapiClient,
  type OpenapiClientOptions,
  type OpenapiCallResult,
  type OpenapiPageRequest,
} from './openapi-client'
export { createOpenapiGateway, openapiTrade, OPENAPI_METHODS, type OpenapiGatewayOptions } from './openapi-gateway'
export { createMapiGateway, type MapiGatewayOptions } from './mapi-gateway'
export {
  createPaymentGateway,
  readOpenapiConfig,
  type GatewayConfig,
  type MapiGatewayConfig,
  type OpenapiGatewayConfig,
} from './gateway-config'
export type {
  PaymentGateway,
  PayPage,
  PayPageInput,
  TradeRef,
  CloseResult,
  GatewayRefundInput,
  GatewayRefundResult,
  ParsedNotify,
  VerifiedResponse,
} from './payment-gateway'
export {
  createPartnerRegistry,
  readPartnerConfigs,
  ConfigError,
  type PartnerConfig,
  type PartnerInfo,
  type PartnerRegistry,
} from './partners'
export {
  createOrderService,
  PAY_TYPES,
  SUCCESS_RETURN,
  type OrderService,
  type OrderServiceDeps,
  type OrderView,
  type PayType,
  type PayUrlResult,
  type NotifyResult,
  type PaidVia,
} from './order-service'
export { createOrderRoutes } from './order-routes'
export {
  judge,
  DEFAULT_RECONCILE_LIMIT,
  DEFAULT_RECONCILE_WINDOW_MS,
  type ReconcileReport,
  type ReconcileOptions,
  type RepairAction,
  type NeedsHumanReason,
  type RepairedEntry,
  type NeedsHumanEntry,
  type ReconcileErrorEntry,
  type SkippedEntry,
  type Verdict,
} from './order-reconcile'
export { scheduleReconciliation, type ReconcileScheduleOptions } from './reconcile-schedule'
export { reconcileCli, type CliIo } from './reconcile-cli'
export { mapiTrade, tradeMismatch, type TradeSnapshot, type TradeLookup, type TradeMismatch } from './trade-snapshot'
export { OrderError, ORDER_ERROR_STATUS, type OrderErrorCode } from './order-errors'
export {
  openSqliteOrderStore,
  type OrderStore,
  type Order,
  type OrderState,
  type Refund,
  type AuditEntry,
  type AuditRow,
} from './order-store'
export { HttpProblem, PROBLEM_BASE } from './problem'
export { createLogger, silentLogger, type Logger } from './logger'
export { demoPartnerConfig } from './demo-config'
