import { fork } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import type { PartnerConfig } from '@alipay-payment-handler/gateway-client'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'

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

/**
 * Parent → child; the options come by message, as 10,000 order numbers do not fit in argv. The
 * signing server's partner comes too: its demo config is TypeScript (apps/dev-stack), which the
 * plain-node child cannot import.
 */
export type ParentMessage =
  { type: 'START'; payload: ChildOptions; partner: PartnerConfig } | { type: 'STATS' } | { type: 'CLOSE' }

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

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CHILD_SOURCE = fileURLToPath(new URL('./server-child.ts', import.meta.url))
// Next to the source (and git-ignored as dist/), so its package imports resolve from the repo's node_modules.
const CHILD_BUILT = fileURLToPath(new URL('./dist/server-child.js', import.meta.url))
/** The packages the child loads (payment-app and what it imports), by folder. */
const CHILD_PACKAGES = ['protocol', 'gateway-client', 'server-runtime', 'payment-app']

/** Newest modification time of the non-test .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

/**
 * The server children run as a deployment runs the server: plain `node` on the packages' built
 * dist/, without tsx's on-load compiler and its module graph (the relay child measured 153 MB after
 * start-up and warm-up under tsx, 129–130 MB on plain node) and without the source condition. A
 * missing or stale dist would measure something else than the source, so the bench stops and says so.
 */
function checkBuilt(): void {
  for (const name of CHILD_PACKAGES) {
    const dir = join(ROOT, 'packages', name)
    const entry = join(dir, 'dist', 'index.js')
    if (!existsSync(entry)) {
      throw new Error(`[alipay] bench: packages/${name}/dist is missing: run \`npm run build\` first`)
    }
    if (newestSource(join(dir, 'src')) > statSync(entry).mtimeMs) {
      throw new Error(`[alipay] bench: packages/${name}/dist is older than its src/: run \`npm run build\` first`)
    }
  }
}

/**
 * server-child.ts with its types stripped (TypeScript's single-file transpile: no type check, no
 * bundling; its imports stay imports of the built packages), written once per bench run.
 */
let built: string | undefined
function builtChild(): string {
  if (built) return built
  checkBuilt()
  const { outputText } = ts.transpileModule(readFileSync(CHILD_SOURCE, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
    fileName: CHILD_SOURCE,
  })
  mkdirSync(dirname(CHILD_BUILT), { recursive: true })
  // Written aside and renamed, so a child forked meanwhile never reads half a file.
  const partial = `${CHILD_BUILT}.${process.pid}.tmp`
  writeFileSync(partial, outputText)
  renameSync(partial, CHILD_BUILT)
  return (built = CHILD_BUILT)
}

// Starting a child takes about a second on a loaded machine; 30 s means something is wrong.
const READY_TIMEOUT_MS = 30_000
// Plus the sessions it stores first: on a durable PostgreSQL under load, 10,500 took over 30 s.
const READY_MS_PER_SESSION = 10

/** Forks bench/support/server-child.ts (plain node, built packages) and waits for its URL. */
export async function startServerChild(options: ChildOptions): Promise<ServerChild> {
  // No NODE_OPTIONS: a `--conditions=…/source` or `--import tsx` meant for the bench itself would
  // put the child back on the TypeScript sources.
  const { NODE_OPTIONS: _ignored, ...env } = process.env
  const child = fork(builtChild(), [], {
    execArgv: cpuProfile(),
    env,
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
    child.send({ type: 'START', payload: options, partner: demoPartnerConfig() } satisfies ParentMessage)
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
