import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What bench/support/server-child.ts starts. */
export interface ChildOptions {
  mode: 'signing-server' | 'bare-notify' | 'stub-relay' | 'bare-sessions'
  gatewayUrl?: string
  merchantOrigin?: string
  dbPath?: string
  outboxIntervalMs?: number
  /** Sessions to store before answering READY (one per out_trade_no the notifies name). */
  sessions?: { outTradeNos: string[]; merchantNotifyUrl: string; subject: string; totalFee: string }
  /** stub-relay: where each notify is forwarded (the merchant's notify_url). */
  forwardUrl?: string
  /** bare-sessions: the JSON to answer. */
  cannedBody?: unknown
}

/** Memory and outbox state of a child, as it reports them. */
export interface ChildStats {
  rss: number
  heapUsed: number
  /** Outbox rows per state (signing server only). */
  outbox: Record<string, number>
}

/** Child → parent. */
export type ChildMessage = { type: 'READY'; payload: { url: string } } | { type: 'STATS'; payload: ChildStats }

/** Parent → child; the options come by message, as 10,000 order numbers do not fit in argv. */
export type ParentMessage = { type: 'START'; payload: ChildOptions } | { type: 'STATS' } | { type: 'CLOSE' }

/** A server running in its own Node process. */
export interface ServerChild {
  url: string
  stats(): Promise<ChildStats>
  close(): Promise<void>
}

/** BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of each server child there (where its time goes). */
function cpuProfile(): string[] {
  const dir = process.env['BENCH_CPU_PROF_DIR']
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []
}

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url))

// Starting a tsx child takes about a second on a loaded machine; 30 s means something is wrong.
const READY_TIMEOUT_MS = 30_000
// Plus the sessions it stores first: on a durable PostgreSQL under load, 10,500 took over 30 s.
const READY_MS_PER_SESSION = 10

/** Forks bench/support/server-child.ts (through tsx) and waits for its URL. */
export async function startServerChild(options: ChildOptions): Promise<ServerChild> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx', ...cpuProfile()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const next = <T extends ChildMessage['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<ChildMessage, { type: T }>['payload']>((resolve: (payload: never) => void, reject) => {
      const timer = setTimeout(() => reject(new Error(`[alipay] bench child did not answer ${type}`)), timeoutMs)
      const onMessage = (raw: unknown) => {
        const message = raw as ChildMessage
        if (message.type !== type) return
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(message.payload as never)
      }
      child.on('message', onMessage)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`[alipay] bench child (${options.mode}) exited with ${code}`))
      })
    })
  let url: string
  try {
    const ready = next('READY', READY_TIMEOUT_MS + (options.sessions?.outTradeNos.length ?? 0) * READY_MS_PER_SESSION)
    child.send({ type: 'START', payload: options } satisfies ParentMessage)
    ;({ url } = await ready)
  } catch (error) {
    child.kill()
    throw error
  }
  return {
    url,
    async stats() {
      const reply = next('STATS', 10_000)
      child.send({ type: 'STATS' } satisfies ParentMessage)
      return reply
    },
    async close() {
      if (child.exitCode !== null) return
      child.send({ type: 'CLOSE' } satisfies ParentMessage)
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}
