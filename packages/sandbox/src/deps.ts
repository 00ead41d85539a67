import { SandboxClock, type Clock } from './clock.js'
import { resolveConfig, type ResolvedConfig, type SandboxConfig } from './config.js'
import { FaultBoard } from './faults.js'
import { Notifier } from './notifier.js'
import { OpenapiMessages } from './openapi-messages.js'
import { Scheduler } from './scheduler.js'
import { GatewaySigner } from './signer.js'
import { SandboxStore } from './store.js'
import { TradeBook } from './trades.js'

/** Everything the sandbox's routes use; built once by createSandboxDeps. */
export interface SandboxDeps {
  config: ResolvedConfig
  store: SandboxStore
  clock: Clock
  faults: FaultBoard
  signer: GatewaySigner
  notifier: Notifier
  trades: TradeBook
  /** Signs the openapi mode's notifications and returns. */
  openapi: OpenapiMessages
  scheduler: Scheduler
  /** Moves sandbox time forward (POST /_sandbox/clock/advance); undefined when the clock cannot jump. */
  advanceClock?: ((ms: number) => void) | undefined
}

/** Options for tests: a custom clock or fetch. */
export interface SandboxDepsOptions {
  clock?: Clock
  fetch?: typeof fetch
}

/** Builds the store, clock, notifier and trade book for a config. Call `scheduler.start()` to run timers. */
export function createSandboxDeps(config: SandboxConfig, options: SandboxDepsOptions = {}): SandboxDeps {
  const resolved = resolveConfig(config)
  const store = new SandboxStore(resolved.dbPath)
  const sandboxClock =
    options.clock instanceof SandboxClock ? options.clock : options.clock ? undefined : new SandboxClock()
  const clock: Clock = options.clock ?? sandboxClock!
  const faults = new FaultBoard(resolved.faults)
  const signer = new GatewaySigner(resolved, faults)
  // The notifier and trade book wake the scheduler, which is built from them: break the cycle late.
  const schedulerRef: { current?: Scheduler } = {}
  const wake = () => schedulerRef.current?.wake()
  const notifier = new Notifier({ store, clock, config: resolved, faults, signer, fetch: options.fetch ?? fetch, wake })
  const openapi = new OpenapiMessages({ config: resolved, clock, notifier })
  const trades = new TradeBook({ store, clock, config: resolved, signer, notifier, wake, openapi })
  const scheduler = new Scheduler(clock, [trades, notifier], (error) =>
    resolved.log(`[alipay-sandbox] scheduled work failed: ${error instanceof Error ? error.message : String(error)}`),
  )
  schedulerRef.current = scheduler
  const deps: SandboxDeps = { config: resolved, store, clock, faults, signer, notifier, trades, openapi, scheduler }
  if (sandboxClock) {
    sandboxClock.onAdvance(wake)
    deps.advanceClock = (ms) => sandboxClock.advance(ms)
  }
  return deps
}
