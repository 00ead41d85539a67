export { createHandlerAssets, handlerCsp, DEFAULT_DIST_DIR, type HandlerAssetsConfig } from './assets.js'
export {
  ICON_SIZES,
  paymentMethodIdentifier,
  paymentMethodLink,
  paymentMethodManifest,
  webAppManifest,
  type IdentityConfig,
} from './identity.js'
