import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createGroupCommit, openDatabase, type Db } from './db.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function open(): { db: Db; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'alipay-db-'))
  dirs.push(dir)
  const path = join(dir, 'test.db')
  const db = openDatabase(path, [{ version: 1, sql: 'CREATE TABLE t (name TEXT PRIMARY KEY)' }])
  return { db, path }
}

describe('group commit', () => {
  it('commits the writes of one turn together, and only then resolves them', async () => {
    const { db, path } = open()
    const reader = new Database(path, { readonly: true })
    const group = createGroupCommit(db)
    const seenByOthers: number[] = []
    const insert = (name: string) => () => {
      db.prepare('INSERT INTO t (name) VALUES (?)').run(name)
      // Another connection sees none of the group until the group commits.
      seenByOthers.push((reader.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n)
      return name
    }
    const results = await Promise.all([group.run(insert('a')), group.run(insert('b')), group.run(insert('c'))])
    expect(results).toEqual(['a', 'b', 'c'])
    expect(seenByOthers).toEqual([0, 0, 0])
    expect(reader.prepare('SELECT name FROM t ORDER BY name').pluck().all()).toEqual(['a', 'b', 'c'])
    reader.close()
    db.close()
  })

  it('rolls back a write that throws, alone, and rejects only its caller', async () => {
    const { db } = open()
    const group = createGroupCommit(db)
    const failing = group.run(() => {
      db.prepare('INSERT INTO t (name) VALUES (?)').run('half')
      throw new Error('refused after a partial write')
    })
    const outcomes = await Promise.allSettled([
      group.run(() => db.prepare('INSERT INTO t (name) VALUES (?)').run('before')),
      failing,
      group.run(() => db.prepare('INSERT INTO t (name) VALUES (?)').run('after')),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    await expect(failing).rejects.toThrow('refused after a partial write')
    expect(db.prepare('SELECT name FROM t ORDER BY name').pluck().all()).toEqual(['after', 'before'])
    db.close()
  })

  it('flush() commits the waiting group at once (before a close)', async () => {
    const { db, path } = open()
    const group = createGroupCommit(db)
    const pending = group.run(() => db.prepare('INSERT INTO t (name) VALUES (?)').run('x'))
    group.flush()
    db.close()
    await pending
    const reader = new Database(path, { readonly: true })
    expect(reader.prepare('SELECT name FROM t').pluck().all()).toEqual(['x'])
    reader.close()
  })
})
