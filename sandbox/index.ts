export { createSandboxApp } from './app'
export { SandboxClock, type Clock, type CancelTimer } from './clock'
export {
  demoSandboxConfig,
  resolveConfig,
  SandboxConfigError,
  type SandboxConfig,
  type ResolvedConfig,
  type PartnerProfile,
  type TestBuyer,
} from './config'
export { createSandboxDeps, type SandboxDeps, type SandboxDepsOptions } from './deps'
export { FaultBoard, NO_FAULTS, SIGNED_OUTPUTS, type Faults, type SignedOutput } from './faults'
export { startSandbox, type RunningSandbox } from './server'
export type { Trade, Notify, NotifyAttempt, NotifyState } from './store'
