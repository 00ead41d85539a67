import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  findDemoIdentities,
  findPartnerIssues,
  isSandboxGatewayUrl,
  readPartnerSources,
  secretFileProblem,
  type PartnerConfig,
  type PartnerSource,
} from '@alipay-payment-handler/gateway-client'
import { isPostgresUrl, type LogLevel } from '@alipay-payment-handler/server-runtime'

/**
 * The configuration of the `alipay-payment-app` bin, read from its flags, the environment and an
 * optional JSON file (`--config FILE` or `ALIPAY_PAYMENT_APP_CONFIG`), in that order of precedence,
 * and checked completely before anything starts: every problem is one line naming the flag, the
 * variable or the key path it is about (`ALIPAY_GATEWAY_URL: …`, `partners[0].md5Key: …`), and
 * never a key.
 */
export interface AppConfig {
  /** Interface to bind (`--host`, `HOST`, `host`); default 127.0.0.1. */
  host: string
  /** Port to listen on (`--port`, `PORT`, `port`); 0 picks a free one. Default 4200. */
  port: number
  /** Where browsers and the gateway reach the server (`--public-origin`, `PUBLIC_ORIGIN`); unset: `http://localhost:<port>`. */
  publicOrigin: string | undefined
  /** The server's `gateway.do` (`--gateway`, `ALIPAY_GATEWAY_URL`, `gatewayUrl`). */
  gatewayUrl: string
  /** Addresses or CIDR ranges of the reverse proxies in front (`--trusted-proxies`, `TRUSTED_PROXIES`). Stored, not used yet. */
  trustedProxies: string[]
  /** The partners, as `startSigningServer` takes them (each with its merchant origins). */
  partners: PartnerConfig[]
  /** Every partner's merchant origins together. */
  allowedOrigins: string[]
  /**
   * SQLite file or `postgres://` URL (`--db`, `SIGNING_SERVER_DB`, `DATABASE_URL`, `database`, in
   * that order); default `.data/signing-server.db`. A PostgreSQL database may serve several processes.
   */
  dbPath: string
  /** `--migrate-only`: apply the database's migrations, then exit. */
  migrateOnly: boolean
  logLevel: LogLevel
  /** `--insecure-origins`: http:// public and merchant origins against a real gateway (warned about). */
  insecureOrigins: boolean
  /** How long SIGTERM waits for requests in flight (`--shutdown-timeout`, `SHUTDOWN_TIMEOUT` seconds); default 10 s. */
  shutdownTimeoutMs: number
  /** The JSON file read, if any. */
  configFile: string | undefined
}

/** What `loadAppConfig` found: help asked for, problems (one line each), or a configuration. */
export type AppConfigResult =
  | { kind: 'help'; text: string }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'ok'; config: AppConfig; warnings: string[] }

export const APP_USAGE = `Usage: alipay-payment-app [--config FILE] [--port 4200] [--host 127.0.0.1] [--public-origin URL]
  [--gateway URL] [--db FILE] [--allowed-origins LIST] [--trusted-proxies LIST] [--log-level info]
  [--shutdown-timeout 10] [--insecure-origins] [--migrate-only]

--db (or DATABASE_URL) takes a SQLite file or a postgres:// URL; --migrate-only applies the migrations and exits.

Environment: ALIPAY_PAYMENT_APP_CONFIG, PORT, HOST, PUBLIC_ORIGIN, ALIPAY_GATEWAY_URL, SIGNING_SERVER_DB, DATABASE_URL,
ALIPAY_ALLOWED_ORIGINS, TRUSTED_PROXIES, LOG_LEVEL, SHUTDOWN_TIMEOUT, and the partners: ALIPAY_PARTNERS_FILE,
or ALIPAY_PARTNER with ALIPAY_MD5_KEY(_FILE) or ALIPAY_PRIVATE_KEY(_FILE) + ALIPAY_GATEWAY_PUBLIC_KEY(_FILE),
ALIPAY_SIGN_TYPE; or ALIPAY_GATEWAY_KIND=openapi with ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY(_FILE),
ALIPAY_PUBLIC_KEY(_FILE), ALIPAY_APP_SELLER_ID. Flags win over the environment, the environment over the file.`

const DEFAULTS = { port: 4200, host: '127.0.0.1', dbPath: '.data/signing-server.db', shutdownSeconds: 10 }
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** Each setting: its flag, its variable and its key in the config file. */
const SETTINGS = {
  host: { flag: '--host', env: 'HOST', key: 'host' },
  port: { flag: '--port', env: 'PORT', key: 'port' },
  publicOrigin: { flag: '--public-origin', env: 'PUBLIC_ORIGIN', key: 'publicOrigin' },
  gatewayUrl: { flag: '--gateway', env: 'ALIPAY_GATEWAY_URL', key: 'gatewayUrl' },
  trustedProxies: { flag: '--trusted-proxies', env: 'TRUSTED_PROXIES', key: 'trustedProxies' },
  allowedOrigins: { flag: '--allowed-origins', env: 'ALIPAY_ALLOWED_ORIGINS', key: 'allowedOrigins' },
  partnersFile: { flag: undefined, env: 'ALIPAY_PARTNERS_FILE', key: 'partnersFile' },
  dbPath: { flag: '--db', env: 'SIGNING_SERVER_DB', key: 'database' },
  logLevel: { flag: '--log-level', env: 'LOG_LEVEL', key: 'logLevel' },
  shutdownTimeout: { flag: '--shutdown-timeout', env: 'SHUTDOWN_TIMEOUT', key: 'shutdownTimeout' },
} as const
type Setting = keyof typeof SETTINGS

/** What to configure instead of a demo identity in a field. */
const OWN_THING: Partial<Record<keyof PartnerConfig, string>> = {
  partner: 'account',
  sellerId: 'account',
  appId: 'app',
}

const FILE_KEYS = new Set<string>(Object.values(SETTINGS).map((s) => s.key))

/** A value and the name it came by (`--port`, `PORT` or `port`), for the messages. */
interface Sourced {
  name: string
  value: unknown
  /** From the config file: relative paths are relative to it. */
  fromFile: boolean
}

type Env = Readonly<Record<string, string | undefined>>

/** Reads and checks the bin's whole configuration; never throws for a bad setting. */
export async function loadAppConfig(argv: readonly string[], env: Env): Promise<AppConfigResult> {
  const problems: string[] = []
  const warnings: string[] = []
  // One line per problem: a list inherited by several partners is refused once.
  const refuse = (name: string, problem: string) => {
    const line = `${name}: ${problem}`
    if (!problems.includes(line)) problems.push(line)
  }
  const warn = (line: string) => {
    if (!warnings.includes(line)) warnings.push(line)
  }

  // Flags.
  let flags: Record<string, string | boolean | undefined>
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'public-origin': { type: 'string' },
        gateway: { type: 'string' },
        db: { type: 'string' },
        'trusted-proxies': { type: 'string' },
        'allowed-origins': { type: 'string' },
        'log-level': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'insecure-origins': { type: 'boolean' },
        'migrate-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (error) {
    const message = (error as Error).message
    const option = /'(-[^' ]+)/.exec(message)?.[1]
    const code = (error as { code?: string }).code
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      return { kind: 'invalid', problems: [`${option}: not an option of alipay-payment-app (see --help)`] }
    return { kind: 'invalid', problems: [`${option ?? 'arguments'}: ${message.split('\n')[0]}`] }
  }
  if (flags['help']) return { kind: 'help', text: APP_USAGE }

  // The config file.
  let file: Record<string, unknown> = {}
  let configFile: string | undefined
  const fileName = typeof flags['config'] === 'string' ? '--config' : 'ALIPAY_PAYMENT_APP_CONFIG'
  const filePath = typeof flags['config'] === 'string' ? flags['config'] : env['ALIPAY_PAYMENT_APP_CONFIG'] || undefined
  if (filePath !== undefined) {
    configFile = resolve(filePath)
    const problem = secretFileProblem(configFile)
    if (problem) refuse(fileName, problem)
    else {
      try {
        const json: unknown = JSON.parse(readFileSync(configFile, 'utf8'))
        if (typeof json !== 'object' || json === null || Array.isArray(json))
          refuse(fileName, `${filePath} must hold a JSON object like { "gatewayUrl": "…", "publicOrigin": "…" }`)
        else file = json as Record<string, unknown>
      } catch (error) {
        refuse(fileName, `${filePath} is not JSON: ${(error as Error).message}`)
      }
    }
    for (const key of Object.keys(file)) {
      if (key === 'partners')
        refuse(
          'partners',
          'the partners and their keys go in a file of their own: name it with "partnersFile" or ALIPAY_PARTNERS_FILE',
        )
      else if (!FILE_KEYS.has(key))
        refuse(key, `not a setting of alipay-payment-app (the file's keys: ${[...FILE_KEYS].join(', ')})`)
    }
  }

  const pick = (setting: Setting): Sourced | undefined => {
    const { flag, env: variable, key } = SETTINGS[setting]
    const flagValue = flag ? flags[flag.slice(2)] : undefined
    if (flag && flagValue !== undefined) return { name: flag, value: flagValue, fromFile: false }
    const envValue = env[variable]
    if (envValue !== undefined && envValue !== '') return { name: variable, value: envValue, fromFile: false }
    if (file[key] !== undefined) return { name: key, value: file[key], fromFile: true }
    return undefined
  }
  /** A path setting: config-file paths are relative to the file. */
  const pathOf = (source: Sourced) =>
    source.fromFile && configFile ? resolve(dirname(configFile), String(source.value)) : String(source.value)
  /** A list setting: an array in the file, comma-separated in a flag or the environment. */
  const listOf = (source: Sourced | undefined): string[] | undefined => {
    if (!source) return undefined
    if (Array.isArray(source.value) && source.value.every((item) => typeof item === 'string'))
      return source.value.map((item: string) => item.trim()).filter(Boolean)
    if (typeof source.value === 'string')
      return source.value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    refuse(source.name, 'must be a list of strings')
    return []
  }
  const stringOf = (source: Sourced | undefined): string | undefined => {
    if (!source) return undefined
    if (typeof source.value === 'string' && source.value.trim() !== '') return source.value.trim()
    if (typeof source.value === 'number') return String(source.value)
    refuse(source.name, 'must be a non-empty string')
    return undefined
  }

  // Listening.
  const hostSource = pick('host')
  const host = stringOf(hostSource) ?? DEFAULTS.host
  if (hostSource && !isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host))
    refuse(hostSource.name, `must be an interface address or host name like 127.0.0.1 or 0.0.0.0, not "${host}"`)
  const portSource = pick('port')
  let port = DEFAULTS.port
  if (portSource) {
    const text = String(portSource.value)
    port = Number(text)
    if (!/^\d+$/.test(text) || port > 65535) {
      refuse(portSource.name, `must be a port number from 0 to 65535, not "${text}"`)
      port = DEFAULTS.port
    }
  }

  // The gateway.
  const gatewaySource = pick('gatewayUrl')
  const gatewayUrl = stringOf(gatewaySource)
  const gatewayName = gatewaySource?.name ?? SETTINGS.gatewayUrl.env
  let gatewayOk = false
  if (gatewayUrl === undefined) {
    if (!gatewaySource)
      refuse(
        gatewayName,
        'is missing: the gateway.do URL, the sandbox’s (http://127.0.0.1:4300/gateway.do) or Alipay’s (https://mapi.alipay.com/gateway.do); or --gateway',
      )
  } else if (!isGatewayUrl(gatewayUrl)) {
    refuse(
      gatewayName,
      `must be an http(s) URL like "https://mapi.alipay.com/gateway.do" (no query), not "${gatewayUrl}"`,
    )
  } else gatewayOk = true
  const kind = env['ALIPAY_GATEWAY_KIND']
  if (kind && kind !== 'mapi' && kind !== 'openapi')
    refuse('ALIPAY_GATEWAY_KIND', `must be mapi or openapi, not "${kind}"`)
  if (kind === 'openapi' && !env['ALIPAY_APP_ID'])
    refuse(
      'ALIPAY_APP_ID',
      'is missing: ALIPAY_GATEWAY_KIND=openapi needs the app id, with ALIPAY_APP_PRIVATE_KEY(_FILE), ALIPAY_PUBLIC_KEY(_FILE) and ALIPAY_APP_SELLER_ID',
    )
  if (kind !== 'openapi' && env['ALIPAY_APP_ID'])
    refuse(
      'ALIPAY_APP_ID',
      'is set but ALIPAY_GATEWAY_KIND is not openapi: set ALIPAY_GATEWAY_KIND=openapi, or unset it',
    )

  // Origins.
  const publicSource = pick('publicOrigin')
  const publicOrigin = stringOf(publicSource)
  if (publicSource && publicOrigin !== undefined && !isWebOrigin(publicOrigin))
    refuse(publicSource.name, originProblem(publicOrigin))
  const defaultOriginsSource = pick('allowedOrigins')
  const defaultOrigins = listOf(defaultOriginsSource) ?? []
  for (const origin of defaultOrigins) {
    if (!isWebOrigin(origin)) refuse(defaultOriginsSource!.name, originProblem(origin))
  }
  const trustedSource = pick('trustedProxies')
  const trustedProxies = listOf(trustedSource) ?? []
  for (const proxy of trustedProxies) {
    if (!isAddressOrRange(proxy))
      refuse(trustedSource!.name, `"${proxy}" is not an IP address or CIDR range (like 10.0.0.0/8, 192.0.2.7 or ::1)`)
  }

  // The database, the log, the shutdown.
  // DATABASE_URL, the usual name of a platform's database, comes after our own variable.
  const picked = pick('dbPath')
  const dbSource =
    picked && picked.fromFile && env['DATABASE_URL']
      ? { name: 'DATABASE_URL', value: env['DATABASE_URL'], fromFile: false }
      : (picked ??
        (env['DATABASE_URL'] ? { name: 'DATABASE_URL', value: env['DATABASE_URL'], fromFile: false } : undefined))
  const dbValue = stringOf(dbSource)
  const dbPath =
    dbSource && dbValue !== undefined ? (isPostgresUrl(dbValue) ? dbValue : pathOf(dbSource)) : DEFAULTS.dbPath
  const dbProblem = isPostgresUrl(dbPath) ? postgresUrlProblem(dbPath) : databaseProblem(dbPath)
  if (dbProblem) refuse(dbSource?.name ?? SETTINGS.dbPath.env, dbProblem)
  const levelSource = pick('logLevel')
  const level = stringOf(levelSource) ?? 'info'
  if (!LOG_LEVELS.includes(level as LogLevel))
    refuse(levelSource!.name, `must be ${LOG_LEVELS.slice(0, -1).join(', ')} or error, not "${level}"`)
  const shutdownSource = pick('shutdownTimeout')
  let shutdownSeconds = DEFAULTS.shutdownSeconds
  if (shutdownSource) {
    const seconds = Number(shutdownSource.value)
    if (String(shutdownSource.value).trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 600)
      refuse(shutdownSource.name, `must be a number of seconds from 0 to 600, not "${String(shutdownSource.value)}"`)
    else shutdownSeconds = seconds
  }
  const insecureOrigins = flags['insecure-origins'] === true

  // Partners.
  const partnersFileSource = pick('partnersFile')
  const partnersFile = partnersFileSource ? pathOf(partnersFileSource) : undefined
  const partnerEnv = { ...env, ALIPAY_PARTNERS_FILE: partnersFile }
  const { sources, problems: fileProblems } = readPartnerSources(partnerEnv)
  const failedVariables = new Set<string>()
  const failedKeyFile = fileProblems.some((p) => p.variable !== 'ALIPAY_PARTNERS_FILE')
  for (const problem of fileProblems) {
    const name =
      problem.variable === 'ALIPAY_PARTNERS_FILE' ? (partnersFileSource?.name ?? problem.variable) : problem.variable
    failedVariables.add(problem.variable)
    refuse(name, problem.problem)
  }
  // The server-wide merchant origins go to every partner that lists none of its own.
  const named = sources.map((source) =>
    withOrigins(source, defaultOrigins, defaultOriginsSource?.name ?? SETTINGS.allowedOrigins.env),
  )
  const configs = named.map((n) => n.config)
  for (const issue of await findPartnerIssues(configs)) {
    const name = named[issue.index]!.nameOf(issue.path)
    // A file that could not be read is one problem already, not also a missing key.
    if (failedVariables.has(name)) continue
    const fromEnv = sources[issue.index]?.origin.kind === 'env'
    if (fromEnv && failedKeyFile && issue.problem.startsWith('is missing')) continue
    // Inherited origins were checked above, under their own name.
    if (named[issue.index]!.inheritsOrigins && issue.path[0] === 'allowedOrigins' && defaultOrigins.length > 0) continue
    const shown = issue.path[0] === 'allowedOrigins' || issue.path[0] === 'gatewayUrl'
    refuse(
      name,
      shown && issue.path.length > 0
        ? withValue(issue.problem, valueAt(configs[issue.index], issue.path))
        : issue.problem,
    )
  }
  if (sources.length === 0 && fileProblems.length === 0 && !(kind === 'openapi' && !env['ALIPAY_APP_ID']))
    refuse(
      'ALIPAY_PARTNER',
      'no partner is configured: set ALIPAY_PARTNER with its keys, ALIPAY_GATEWAY_KIND=openapi with ALIPAY_APP_ID and its keys, or ALIPAY_PARTNERS_FILE',
    )

  // Against a real gateway: no demo identity, and (unless told) no http:// origin.
  const gatewayOf = (config: PartnerConfig) =>
    typeof config.gatewayUrl === 'string' && isGatewayUrl(config.gatewayUrl)
      ? config.gatewayUrl
      : gatewayOk
        ? gatewayUrl
        : undefined
  const realGateways = new Set<string>()
  for (const { config, nameOf } of named) {
    const gateway = gatewayOf(config)
    if (gateway === undefined || isSandboxGatewayUrl(gateway)) continue
    realGateways.add(gateway)
    for (const use of findDemoIdentities(config)) {
      refuse(
        nameOf([use.field]),
        `is ${use.what}, and ${gateway} is not the local sandbox (http://localhost, 127.0.0.1 or [::1]): ` +
          `configure the partner's own ${OWN_THING[use.field] ?? 'keys'}`,
      )
    }
    const origins = Array.isArray(config.allowedOrigins) ? config.allowedOrigins : []
    origins.forEach((origin, at) => {
      if (typeof origin !== 'string' || !origin.startsWith('http:')) return
      const name = nameOf(['allowedOrigins', at])
      const what = `merchant origin ${origin} is http://, and ${gateway} is not the local sandbox`
      if (insecureOrigins) warn(`--insecure-origins: ${name}: ${what}; payments from that page go without TLS`)
      else refuse(name, `${what}: merchant pages must be https:// (or pass --insecure-origins)`)
    })
  }
  if (gatewayOk && !isSandboxGatewayUrl(gatewayUrl!)) realGateways.add(gatewayUrl!)
  const [realGateway] = realGateways
  const effectivePublic = publicOrigin ?? `http://localhost:${port}`
  if (realGateway && effectivePublic.startsWith('http:') && (!publicSource || isWebOrigin(effectivePublic))) {
    const name = publicSource?.name ?? SETTINGS.publicOrigin.env
    const what = `${publicSource ? '' : 'unset, so '}${effectivePublic} is http://, and ${realGateway} is not the local sandbox`
    if (insecureOrigins)
      warn(`--insecure-origins: ${name}: ${what}; browsers and Alipay reach the payment app without TLS`)
    else
      refuse(
        name,
        `${what}: set the https:// origin your TLS proxy serves, e.g. https://pay.example.com (or pass --insecure-origins)`,
      )
  }

  if (problems.length > 0) return { kind: 'invalid', problems }
  return {
    kind: 'ok',
    warnings,
    config: {
      host,
      port,
      publicOrigin,
      gatewayUrl: gatewayUrl!,
      trustedProxies,
      partners: configs,
      allowedOrigins: [...new Set(configs.flatMap((c) => c.allowedOrigins))],
      dbPath,
      migrateOnly: flags['migrate-only'] === true,
      logLevel: level as LogLevel,
      insecureOrigins,
      shutdownTimeoutMs: Math.round(shutdownSeconds * 1000),
      configFile,
    },
  }
}

/** A partner config with the server-wide merchant origins filled in, and how to name its fields. */
function withOrigins(
  source: PartnerSource,
  defaults: readonly string[],
  defaultsName: string,
): { config: PartnerConfig; inheritsOrigins: boolean; nameOf: (path: readonly (string | number)[]) => string } {
  const raw = source.config as PartnerConfig
  const origin = source.origin
  if (origin.kind === 'env') {
    // The environment's partner takes the server-wide list, whichever of flag, variable or file gave it.
    const config = { ...raw, allowedOrigins: [...defaults] }
    const variables: Partial<Record<string, string>> = { ...origin.variables, allowedOrigins: defaultsName }
    return { config, inheritsOrigins: true, nameOf: (path) => variables[String(path[0])] ?? 'ALIPAY_PARTNER' }
  }
  const inheritsOrigins =
    typeof raw === 'object' &&
    raw !== null &&
    !Array.isArray(raw) &&
    raw.allowedOrigins === undefined &&
    defaults.length > 0
  const config = inheritsOrigins ? { ...raw, allowedOrigins: [...defaults] } : raw
  return {
    config,
    inheritsOrigins,
    nameOf: (path) =>
      inheritsOrigins && path[0] === 'allowedOrigins' ? defaultsName : `partners[${origin.index}]${keyPath(path)}`,
  }
}

/** `["allowedOrigins", 1]` → `.allowedOrigins[1]`. */
function keyPath(path: readonly (string | number)[]): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('')
}

function valueAt(config: unknown, path: readonly (string | number)[]): unknown {
  let value = config
  for (const key of path) value = (value as Record<string | number, unknown> | undefined)?.[key]
  return value
}

/** Puts a (public) value into a problem: `must be an origin…` → `"x" must be an origin…`. */
function withValue(problem: string, value: unknown): string {
  return typeof value === 'string' && !problem.startsWith('is missing') ? `"${value}" ${problem}` : problem
}

const originProblem = (value: string) =>
  `"${value}" must be an origin like "https://pay.example.com" (scheme, host, port; no path or trailing slash)`

function isWebOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}

function isGatewayUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash
  } catch {
    return false
  }
}

function isAddressOrRange(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

/** Why the SQLite file cannot be opened or created, without creating anything; undefined when it can. */
/** A PostgreSQL URL must name a host; the message never repeats its password. */
function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'is not a valid PostgreSQL URL (postgres://user:password@host:5432/database)'
  }
  if (!parsed.hostname) return `${redactUrl(parsed)} names no host (postgres://user:password@host:5432/database)`
  if (parsed.pathname.length > 1 && !/^\/[^/]+$/.test(decodeURIComponent(parsed.pathname)))
    return `${redactUrl(parsed)} names more than one database`
  return undefined
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: URL | string): string {
  const copy = new URL(String(url))
  if (copy.password) copy.password = '***'
  return copy.toString()
}

function databaseProblem(path: string): string | undefined {
  if (path === ':memory:') return undefined
  const file = resolve(path)
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) return `${path} is a directory, not a SQLite file`
    try {
      accessSync(file, constants.R_OK | constants.W_OK)
    } catch {
      return `${path} is not readable and writable by this user`
    }
    return undefined
  }
  // The nearest folder that exists must let us create the rest.
  let dir = dirname(file)
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  if (!statSync(dir).isDirectory()) return `cannot create ${path}: ${dir} is not a directory`
  try {
    accessSync(dir, constants.W_OK)
  } catch {
    return `cannot create ${path}: ${dir} is not writable by this user`
  }
  return undefined
}
