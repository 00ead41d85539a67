export { createSandboxApp } from './app.js'
export { SandboxClock, type Clock, type CancelTimer } from './clock.js'
export {
  demoSandboxConfig,
  resolveConfig,
  SandboxConfigError,
  type SandboxConfig,
  type ResolvedConfig,
  type PartnerProfile,
  type TestBuyer,
} from './config.js'
export { createSandboxDeps, type SandboxDeps, type SandboxDepsOptions } from './deps.js'
export { FaultBoard, NO_FAULTS, SIGNED_OUTPUTS, type Faults, type SignedOutput } from './faults.js'
export { startSandbox, type RunningSandbox } from './server.js'
export type { Trade, Notify, NotifyAttempt, NotifyState } from './store.js'
