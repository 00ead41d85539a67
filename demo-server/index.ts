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
} from './order-service'
export { createOrderRoutes } from './order-routes'
export { OrderError, ORDER_ERROR_STATUS, type OrderErrorCode } from './order-errors'
export { openSqliteOrderStore, type OrderStore, type Order, type OrderState, type Refund } from './order-store'
export { HttpProblem, PROBLEM_BASE } from './problem'
export { createLogger, silentLogger, type Logger } from './logger'
export { demoPartnerConfig } from './demo-config'
