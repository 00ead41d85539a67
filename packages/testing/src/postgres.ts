import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A PostgreSQL server that exists only for a test run. */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the cluster's superuser, trust auth. */
  readonly url: string
  stop(): Promise<void>
}

/** A database of its own inside a cluster, so test files never see each other's rows. */
export interface TestDatabase {
  readonly url: string
  drop(): Promise<void>
}

// PostgreSQL refuses to run as root; `nobody` exists on every Debian system.
const UNPRIVILEGED_USER = { uid: 65534, gid: 65534 }

/** Debian installs each major version under /usr/lib/postgresql/<major>/bin; the newest wins. */
export function postgresBinDir(): string {
  const fromEnv = process.env['PG_BIN']
  if (fromEnv) return fromEnv
  const root = '/usr/lib/postgresql'
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (majors.length === 0) {
    throw new Error(
      '[alipay-testing] PostgreSQL is not installed: run `apt-get install -y postgresql` (or set PG_BIN or DATABASE_URL).',
    )
  }
  return join(root, majors[0]!, 'bin')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

function run(command: string, args: string[], asUnprivileged: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(asUnprivileged ? UNPRIVILEGED_USER : {}),
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    )
  })
}

export interface ThrowawayPostgresOptions {
  /**
   * Durability off (fsync, synchronous_commit, full_page_writes): right for tests, which throw
   * the cluster away. Benchmarks pass false to measure what a deployment would get.
   */
  fast?: boolean
}

/**
 * initdb in a temporary folder, then pg_ctl start on a free loopback port, as `nobody` when
 * this process is root. `stop()` shuts it down and removes the folder.
 */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir()
  const asUnprivileged = process.getuid?.() === 0
  const dir = mkdtempSync(join(tmpdir(), 'alipay-pg-'))
  if (asUnprivileged) {
    chmodSync(dir, 0o700)
    chownSync(dir, UNPRIVILEGED_USER.uid, UNPRIVILEGED_USER.gid)
  }
  const data = join(dir, 'data')
  await run(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    asUnprivileged,
  )
  const port = await freePort()
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    ...(options.fast === false ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ]
  await run(
    join(bin, 'pg_ctl'),
    ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'server.log'), '-o', settings.join(' ')],
    asUnprivileged,
  )
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    process.off('exit', stopOnExit)
    await run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], asUnprivileged).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  // A test run that dies must not leave a server behind: `exit` handlers run synchronously,
  // so this one only signals the postmaster, whose pid is the first line of postmaster.pid.
  const stopOnExit = (): void => {
    try {
      spawn(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate'], {
        stdio: 'ignore',
        detached: true,
        ...(asUnprivileged ? UNPRIVILEGED_USER : {}),
      }).unref()
    } catch {
      // nothing more can be done while exiting
    }
  }
  process.on('exit', stopOnExit)
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop }
}

/**
 * A fresh, empty database in the cluster at `clusterUrl` (or `DATABASE_URL`), created with the
 * `pg` driver the caller already depends on; `drop()` removes it. Names are random, so several
 * test processes can share one cluster.
 */
export async function createTestDatabase(clusterUrl = process.env['DATABASE_URL']): Promise<TestDatabase> {
  if (!clusterUrl) throw new Error('[alipay-testing] createTestDatabase needs a cluster URL or DATABASE_URL.')
  const { default: pg } = await import('pg')
  const name = `alipay_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: clusterUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(clusterUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: clusterUrl })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}
