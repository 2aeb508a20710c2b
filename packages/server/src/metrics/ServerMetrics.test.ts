import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { Counter, type Registry } from 'prom-client'
import { expect, it, vi } from 'vitest'
import { createCubbyServer } from '../createCubbyServer.js'
import { createJsonLogger } from '../logger.js'
import type { CubbyStorage, StorageMetricsHooks } from '../storage/CubbyStorage.js'
import { createLevelStorage } from '../storage/createLevelStorage.js'
import { RefusalLog } from './RefusalLog.js'

/** A LevelDB storage whose commits of key `boom` and reads of user `broken` fail, as a disk error would. */
function failingStorage(db: Level<string, string>): CubbyStorage {
  const real = createLevelStorage({ db })
  return new Proxy(real, {
    get(target, name, receiver) {
      if (name === 'commit') {
        return (userId: string, mutations: Array<{ key?: string }>, ...rest: unknown[]) => mutations.some((m) => m.key === 'boom')
          ? Promise.reject(new Error('disk on fire'))
          : (target.commit as (...a: unknown[]) => unknown)(userId, mutations, ...rest)
      }
      if (name === 'list') {
        return (userId: string, ...rest: unknown[]) => userId === 'broken'
          ? Promise.reject(new Error('bad block'))
          : (target.list as (...a: unknown[]) => unknown).call(target, userId, ...rest)
      }
      if (name === 'registerMetrics') {
        return (registry: Registry, hooks: StorageMetricsHooks) => {
          new Counter({ name: 'cubby_test_storage_reconnects_total', help: 'A storage metric', registers: [registry] }).inc(2)
          // What a bus does after a missed message.
          hooks.catchUp('gap')
        }
      }
      const value: unknown = Reflect.get(target, name, receiver)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}

it('counts storage errors of commits and reads, logs each as one JSON line at error, and takes the storage\'s own metrics', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-metrics-'))
  const db = new Level<string, string>(join(dir, 'db'))
  const lines: string[] = []
  const cubby = createCubbyServer({ storage: failingStorage(db), secret: 's3cret', adminToken: 'admin-credential-0123', logger: createJsonLogger((l) => void lines.push(l)) })
  try {
    const { url } = await cubby.listen()
    const token = await cubby.issueToken('u')
    const put = (key: string): Promise<Response> =>
      fetch(`${url}/v1/values/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '1' })
    expect((await put('fine')).status).toBe(200)
    expect((await put('boom')).status).toBe(500)
    const broken = await cubby.issueToken('broken')
    expect((await fetch(`${url}/v1/values`, { headers: { authorization: `Bearer ${broken}` } })).status).toBe(500)
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer admin-credential-0123' } })).text()
    expect(text).toContain('cubby_storage_errors_total{operation="commit"} 1\n')
    expect(text).toContain('cubby_storage_errors_total{operation="read"} 1\n')
    expect(text).toContain('cubby_commit_duration_seconds_count{result="error"} 1\n')
    expect(text).toContain('cubby_commit_duration_seconds_count{result="ok"} 1\n')
    expect(text).toContain('cubby_mutations_total{result="INTERNAL"} 1\n')
    expect(text).toContain('cubby_test_storage_reconnects_total 2\n')
    expect(text).toContain('cubby_catchups_total{reason="gap"} 1\n')
    const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'storage-error')
    expect(errors).toMatchObject([
      { level: 'error', operation: 'commit', mutations: 1, error: expect.stringContaining('disk on fire') },
      { level: 'error', operation: 'read', error: expect.stringContaining('bad block') },
    ])
    expect(lines.join('')).not.toContain(token)
  } finally {
    await cubby.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
})

it('keeps the registries of two servers in one process apart', async () => {
  const dirs = await Promise.all([0, 1].map(() => mkdtemp(join(tmpdir(), 'cubby-metrics-'))))
  const [a, b] = dirs.map((dataDir) => createCubbyServer({ dataDir, secret: 's', adminToken: 'credential-0123456789', logger: null }))
  try {
    const [urlA, urlB] = [(await a!.listen()).url, (await b!.listen()).url]
    await a!.store('u', 'k', 1)
    const scrape = async (url: string): Promise<string> => (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer credential-0123456789' } })).text()
    expect(await scrape(urlA)).toContain('cubby_mutations_total{result="ok"} 1\n')
    expect(await scrape(urlB)).toContain('cubby_mutations_total{result="ok"} 0\n')
  } finally {
    await Promise.all([a!.close(), b!.close()])
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
})

it('logs refusals at most once per reason per window, with the count of the window', async () => {
  const lines: Array<Record<string, unknown>> = []
  const log = new RefusalLog(createJsonLogger((l) => void lines.push(JSON.parse(l) as Record<string, unknown>)), 50)
  for (let i = 0; i < 1000; i++) log.refused('UNAUTHORIZED:invalid')
  log.refused('UNAUTHORIZED:expired')
  expect(lines.map((l) => [l.reason, l.count])).toEqual([['UNAUTHORIZED:invalid', 1], ['UNAUTHORIZED:expired', 1]])
  await vi.waitFor(() => expect(lines).toHaveLength(3))
  expect(lines[2]).toMatchObject({ level: 'warn', event: 'refused', reason: 'UNAUTHORIZED:invalid', count: 999 })
  // A flood that goes on gets one line per window, not one at the start of each window too.
  for (let i = 0; i < 10; i++) log.refused('UNAUTHORIZED:invalid')
  await vi.waitFor(() => expect(lines).toHaveLength(4))
  expect(lines[3]).toMatchObject({ reason: 'UNAUTHORIZED:invalid', count: 10 })
  log.refused('UNAUTHORIZED:invalid')
  log.close()
  expect(lines.slice(4).map((l) => [l.reason, l.count])).toEqual([['UNAUTHORIZED:invalid', 1]])
})
