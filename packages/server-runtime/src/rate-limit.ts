import type { Context, MiddlewareHandler } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'
import { createRequire } from 'node:module'
import { BlockList, isIP } from 'node:net'
import type * as Flexible from 'rate-limiter-flexible'
import { HttpProblem, problemResponse } from './problem.js'

/** How many requests one client may make per window, for one class of endpoint. */
export interface RateLimitOptions {
  /** Requests allowed per window and client. */
  limit: number
  windowMs: number
}

/**
 * A shared store for the counters, so every process behind one load balancer counts together:
 * a `pg` Pool (`new pg.Pool({ connectionString })`) of the deployment's PostgreSQL database.
 * Typed structurally so the runtime does not load `pg` unless it is used.
 */
export interface RateLimitStore {
  /** A `pg.Pool` (or `pg.Client`). */
  pool: { query: (...args: never[]) => unknown }
  /** Default `rate_limits`; one table holds every class (keys are prefixed by class). */
  tableName?: string
  /** True when a migration already created the table (then no `CREATE TABLE` at start). */
  tableCreated?: boolean
}

// rate-limiter-flexible's index requires every limiter it has (Redis, Mongo, DynamoDB, Etcd, …):
// 36 files, 150 KB, 78 ms to require against 3 ms for the memory limiter's own files (plain
// `node -e`, best of six). So the limiters used here are required by their files, and the
// PostgreSQL one only for a shared store; they are the classes the index exports.
const requireLimiter = createRequire(import.meta.url)
const RateLimiterMemory = requireLimiter(
  'rate-limiter-flexible/lib/RateLimiterMemory.js',
) as typeof Flexible.RateLimiterMemory
const RateLimiterRes = requireLimiter('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof Flexible.RateLimiterRes
const loadPostgresLimiter = () =>
  requireLimiter('rate-limiter-flexible/lib/RateLimiterPostgres.js') as typeof Flexible.RateLimiterPostgres

/** What `createRateLimits` is built from. */
export interface RateLimitsConfig {
  /**
   * Addresses or CIDR ranges of the reverse proxies in front (`10.0.0.0/8`, `::1`). Only when the
   * socket's peer is one of them are `Forwarded` / `X-Forwarded-For` read, so a client cannot
   * pick its own bucket by writing the header itself.
   */
  trustedProxies?: readonly string[]
  /** Shared counters (PostgreSQL); unset, each process counts in memory. */
  store?: RateLimitStore
  /** Prefix of every key, to tell servers apart in a shared store (`payment-app`, `shop`). */
  keyPrefix?: string
}

/** Builds the rate-limit middleware of one endpoint class (`create`, `api`, `notify`, …). */
export interface RateLimits {
  limit(endpointClass: string, options: RateLimitOptions): MiddlewareHandler
}

/** The trusted proxies as a BlockList; throws a TypeError naming a bad entry. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix] = entry.trim().split('/')
    const family = isIP(address)
    if (family === 0) throw new TypeError(`trusted proxy "${entry}" is not an IP address or CIDR range`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefix), type)
  }
  return list
}

/** `::ffff:192.0.2.1` (IPv4 on a dual-stack socket) as `192.0.2.1`; brackets and ports dropped. */
function normalizeAddress(raw: string): string | undefined {
  let value = raw.trim().replace(/^"|"$/g, '')
  if (value.startsWith('[')) value = value.slice(1, value.indexOf(']'))
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'))
  if (value.toLowerCase().startsWith('::ffff:') && isIP(value.slice(7)) === 4) value = value.slice(7)
  return isIP(value) ? value : undefined
}

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')
}

/** The hops a proxy chain reports, nearest last: `Forwarded` (RFC 7239) if sent, else `X-Forwarded-For`. */
function forwardedChain(c: Context): (string | undefined)[] {
  const forwarded = c.req.header('forwarded')
  if (forwarded) {
    return forwarded.split(',').map((element) => {
      const pair = element
        .split(';')
        .map((p) => p.trim())
        .find((p) => p.toLowerCase().startsWith('for='))
      return pair ? normalizeAddress(pair.slice(4)) : undefined
    })
  }
  const xff = c.req.header('x-forwarded-for')
  return xff ? xff.split(',').map(normalizeAddress) : []
}

/**
 * The client's address. The socket's peer, unless the peer is a trusted proxy: then the proxies'
 * chain is walked from the nearest hop outwards, skipping trusted proxies, and the first other
 * address is the client. An unreadable hop stops the walk at the last trusted one (never a
 * header value the client could choose). `in-process` for requests that did not come over a socket.
 */
export function clientAddress(c: Context, trusted: BlockList = new BlockList()): string {
  let peer: string | undefined
  try {
    peer = getConnInfo(c).remote.address
  } catch {
    return 'in-process'
  }
  const socketAddress = peer ? (normalizeAddress(peer) ?? peer) : 'unknown'
  if (!peer || !isTrusted(trusted, socketAddress)) return socketAddress
  let client = socketAddress
  const chain = forwardedChain(c)
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = chain[i]
    if (hop === undefined) break
    client = hop
    if (!isTrusted(trusted, hop)) break
  }
  return client
}

/**
 * Rate limits on `rate-limiter-flexible`: fixed windows per client address and endpoint class,
 * in memory by default or in PostgreSQL (`store`), with a memory limiter standing in while the
 * database cannot be reached (a store outage neither fails requests nor lifts the limits).
 */
export function createRateLimits(config: RateLimitsConfig = {}): RateLimits {
  const trusted = trustedProxyList(config.trustedProxies ?? [])
  const prefix = config.keyPrefix ?? 'alipay'
  return {
    limit(endpointClass, options) {
      const base = {
        keyPrefix: `${prefix}:${endpointClass}`,
        points: options.limit,
        duration: Math.max(1, Math.ceil(options.windowMs / 1000)),
      }
      const memory = new RateLimiterMemory(base)
      const limiter: Flexible.RateLimiterAbstract = config.store
        ? new (loadPostgresLimiter())(
            {
              ...base,
              storeClient: config.store.pool,
              tableName: config.store.tableName ?? 'rate_limits',
              tableCreated: config.store.tableCreated ?? false,
              insuranceLimiter: memory,
            },
            // Table creation failing is survivable: the insurance limiter counts meanwhile.
            () => undefined,
          )
        : memory
      return async (c, next) => {
        try {
          await limiter.consume(clientAddress(c, trusted))
        } catch (result) {
          if (!(result instanceof RateLimiterRes)) throw result
          const retryAfter = Math.max(1, Math.ceil(result.msBeforeNext / 1000))
          c.header('retry-after', String(retryAfter))
          return problemResponse(
            c,
            new HttpProblem(429, 'rate-limited', `Too many requests; retry in ${retryAfter} s.`, { retryAfter }),
          )
        }
        await next()
      }
    },
  }
}

/** One endpoint class's limit, keyed on the socket's address only (no proxy trusted), in memory. */
export function rateLimit(options: RateLimitOptions & { name?: string }): MiddlewareHandler {
  return createRateLimits().limit(options.name ?? 'default', options)
}
