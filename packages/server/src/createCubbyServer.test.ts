import { createServer } from 'node:http'
import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isCubbyError } from '@cubby/protocol'
import express from 'express'
import { Level } from 'level'
import { describe, expect, it, vi } from 'vitest'
import { connectUser, openRawSocket, startTestServer } from '@cubby/test-utils'
import { createCubbyServer } from './createCubbyServer.js'
import { resolvePublicOrigins } from './resolveOptions.js'
import { countReads } from './testing/countReads.js'

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), 'cubby-server-'))
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) }
}

describe('createCubbyServer', () => {
  it('offers the store verbs by user id on decoded values', async () => {
    await using server = await startTestServer()
    const { cubby } = server
    expect(await cubby.store('alice', 'm', new Map([[1, 'one']]))).toBe(1)
    await cubby.store('alice', 'n', 2)
    expect(await cubby.get('alice', 'm')).toEqual(new Map([[1, 'one']]))
    expect(await cubby.get('alice', 'missing')).toBeUndefined()
    expect(await cubby.list('alice')).toEqual(['m', 'n'])
    expect(await cubby.entries('alice', { after: 'm' })).toEqual([['n', 2]])
    expect(await cubby.delete('alice', 'm')).toBe(3)
    expect(await cubby.clear('alice')).toBe(4)
    expect(await cubby.list('alice')).toEqual([])
  })

  it('rejects bad user ids, keys and values with their codes', async () => {
    await using server = await startTestServer({ limits: { maxValueBytes: 10 } })
    const codeOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'ok', (e: unknown) => (isCubbyError(e) ? e.code : e))
    expect(await codeOf(server.cubby.store('', 'k', 1))).toBe('INVALID_USER_ID')
    expect(await codeOf(server.cubby.store('u', '', 1))).toBe('INVALID_KEY')
    expect(await codeOf(server.cubby.store('u', 'k', () => 1))).toBe('INVALID_VALUE')
    expect(await codeOf(server.cubby.store('u', 'k', 'x'.repeat(20)))).toBe('VALUE_TOO_LARGE')
    expect(await codeOf(server.cubby.issueToken(''))).toBe('INVALID_USER_ID')
  })

  it('sends server-side writes to live sessions', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    await server.cubby.store('alice', 'k', 'from the server')
    const changes = await socket.next('changes')
    expect(changes.changes).toEqual([{ rev: 1, key: 'k', value: '"from the server"' }])
  })

  it('closes sessions with 1001, closes LevelDB, and keeps acknowledged writes', async () => {
    await using dir = await tempDir()
    const cubby = createCubbyServer({ dataDir: dir.path, logger: null })
    const { url } = await cubby.listen()
    await using socket = await connectUser({ url, token: (userId) => cubby.issueToken(userId) }, 'alice')
    socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] })
    await socket.next('ack')
    await cubby.close()
    expect(await socket.closed).toBe(1001)
    const db = new Level(join(dir.path, 'db'))
    await db.open()
    expect(await db.keys().all()).toContain('d5:alice\x00k')
    await db.close()
  })

  it('answers the pushes it took before closing, and keeps every acknowledged write', async () => {
    await using dir = await tempDir()
    const cubby = createCubbyServer({ dataDir: dir.path, logger: null })
    const { url } = await cubby.listen()
    await using socket = await connectUser({ url, token: (userId) => cubby.issueToken(userId) }, 'alice')
    for (let mid = 1; mid <= 200; mid++) socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid, key: `k${mid}`, value: '1' }] })
    await socket.next('ack')
    await cubby.close()
    expect(await socket.closed).toBe(1001)
    const acked = socket.frames.flatMap((m) => (m.type === 'ack' ? m.results : []))
    expect(acked.every((r) => 'rev' in r)).toBe(true)
    await using reopened = createCubbyServer({ dataDir: dir.path, logger: null })
    const keys = new Set(await reopened.list('alice'))
    for (const { mid } of acked) expect(keys.has(`k${mid}`)).toBe(true)
  })

  it('keeps the secret in <dataDir>/secret with mode 0600 across restarts', async () => {
    await using dir = await tempDir()
    const first = createCubbyServer({ dataDir: dir.path, logger: null })
    const token = await first.issueToken('alice')
    await first.close()
    expect((await stat(join(dir.path, 'secret'))).mode & 0o777).toBe(0o600)
    expect((await readFile(join(dir.path, 'secret'), 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await using second = await startTestServer({ secret: (await readFile(join(dir.path, 'secret'), 'utf8')).trim() })
    await using socket = await openRawSocket(second.url)
    socket.send({ type: 'hello', v: 1, token, cursor: 0 })
    expect(await socket.next('welcome')).toMatchObject({ userId: 'alice' })
  })

  it('reloads the secret file on reloadSecrets() and keeps its secrets when the file is gone', async () => {
    await using dir = await tempDir()
    await using cubby = createCubbyServer({ dataDir: dir.path, logger: null })
    const { url } = await cubby.listen()
    const oldToken = await cubby.issueToken('alice')
    const old = (await readFile(join(dir.path, 'secret'), 'utf8')).trim()
    const status = async (token: string): Promise<number> => (await fetch(`${url}/v1/values`, { headers: { authorization: `Bearer ${token}` } })).status
    await writeFile(join(dir.path, 'secret'), `new-secret\n${old}\n`, { mode: 0o600 })
    cubby.reloadSecrets()
    const newToken = await cubby.issueToken('alice')
    expect([await status(oldToken), await status(newToken)]).toEqual([200, 200])
    await writeFile(join(dir.path, 'secret'), 'new-secret\n')
    cubby.reloadSecrets()
    expect([await status(oldToken), await status(newToken)]).toEqual([401, 200])
    await rm(join(dir.path, 'secret'))
    expect(() => cubby.reloadSecrets()).toThrow(/missing or empty/)
    expect(await status(newToken)).toBe(200)
  })

  it('refuses public origins that are not bare http(s) origins, and normalises the others', async () => {
    for (const bad of ['sync.example.com', 'https://sync.example.com/app', 'wss://sync.example.com', 'https://u:p@sync.example.com', 'https://a.example?x']) {
      expect(() => createCubbyServer({ dataDir: join(tmpdir(), 'cubby-never-made'), publicOrigins: [bad], logger: null }), bad).toThrow(TypeError)
    }
    expect(resolvePublicOrigins({ publicOrigins: ['HTTPS://Sync.Example.com:443/'] })).toEqual(['https://sync.example.com'])
  })

  it('leaves refusing a deleted user to an authenticate hook', async () => {
    await using server = await startTestServer({ authenticate: async (t) => (t === 'let-me-in' ? 'carol' : undefined) })
    await server.cubby.store('carol', 'k', 1)
    await server.cubby.deleteUser('carol')
    await using socket = await openRawSocket(server.url)
    socket.send({ type: 'hello', v: 1, token: 'let-me-in', cursor: 0 })
    expect(await socket.next('welcome')).toMatchObject({ userId: 'carol' })
  })

  it('mounts into an app and an http server of the caller, leaving other upgrades alone', async () => {
    await using dir = await tempDir()
    await using cubby = createCubbyServer({ dataDir: dir.path, logger: null })
    // A host app that parses JSON itself, before Cubby's router.
    const app = express().use(express.json()).use(cubby.app).get('/', (_req, res) => void res.send('mine'))
    const server = createServer(app)
    cubby.attach(server)
    let otherUpgrades = 0
    server.on('upgrade', (req, socket) => {
      if (req.url === '/other') {
        otherUpgrades++
        socket.destroy()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      expect(await (await fetch(`http://${base}/`)).text()).toBe('mine')
      expect(await (await fetch(`http://${base}/healthz`)).json()).toEqual({ ok: true })
      const put = await fetch(`http://${base}/v1/values/k`, {
        method: 'PUT', body: '{"a":[1]}', headers: { 'content-type': 'application/json', authorization: `Bearer ${await cubby.issueToken('alice')}` },
      })
      expect(await put.json()).toEqual({ rev: 1 })
      expect(await cubby.get('alice', 'k')).toEqual({ a: [1] })
      await using socket = await connectUser({ url: `http://${base}`, token: (userId) => cubby.issueToken(userId) }, 'alice')
      expect(socket.frames[0]).toMatchObject({ type: 'welcome' })
      await expect(openRawSocket(`http://${base}`, { path: '/other' })).rejects.toThrow()
      expect(otherUpgrades).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('uses a database owned by the caller and leaves it open', async () => {
    await using dir = await tempDir()
    const db = new Level<string, string>(join(dir.path, 'db'))
    const cubby = createCubbyServer({ db, secret: 's3cret', logger: null })
    await cubby.store('u', 'k', 1)
    await cubby.close()
    expect(db.status).toBe('open')
    await db.close()
  })

  it('accepts tokens through an authenticate hook instead of JWTs', async () => {
    await using server = await startTestServer({ authenticate: async (t) => (t === 'let-me-in' ? 'carol' : undefined) })
    await using socket = await openRawSocket(server.url)
    socket.send({ type: 'hello', v: 1, token: 'let-me-in', cursor: 0 })
    expect(await socket.next('welcome')).toMatchObject({ userId: 'carol' })
    const res = await fetch(`${server.url}/v1/identities`, { method: 'POST' })
    expect(res.status).toBe(404)
  })

  it('keeps the write path key index within maxIndexedKeys (0: every commit reads what it overwrites)', async () => {
    await using dir = await tempDir()
    const db = new Level<string, string>(join(dir.path, 'db'))
    /** Reads made by 20 overwrites of one key, after 20 to warm up. */
    const readsOfOverwrites = async (maxIndexedKeys?: number): Promise<number> => {
      const counted = countReads(db)
      const cubby = createCubbyServer({ db: counted, secret: 's3cret', logger: null, ...(maxIndexedKeys === undefined ? {} : { maxIndexedKeys }) })
      const user = `u${maxIndexedKeys ?? 'default'}`
      for (let i = 0; i < 20; i++) await cubby.store(user, 'k', i)
      // The index loads in the background; once it holds the user, an overwrite reads nothing. With no index
      // (0) there is nothing to wait for: every overwrite reads.
      if (maxIndexedKeys !== 0) {
        await vi.waitFor(async () => {
          const before = counted.reads
          await cubby.store(user, 'k', 19)
          expect(counted.reads).toBe(before)
        }, { timeout: 10_000 })
      }
      const before = counted.reads
      for (let i = 0; i < 20; i++) await cubby.store(user, 'k', i)
      const reads = counted.reads - before
      expect(await cubby.get(user, 'k')).toBe(19)
      await cubby.close()
      return reads
    }
    expect(await readsOfOverwrites()).toBe(0)
    expect(await readsOfOverwrites(0)).toBeGreaterThanOrEqual(20)
    await db.close()
  })

  it('throws TypeError without a place to store data or with bad options', () => {
    expect(() => createCubbyServer({ logger: null })).toThrow(TypeError)
    expect(() => createCubbyServer({ dataDir: '/nonexistent-cubby', secret: 'x', logger: null, maxIndexedKeys: -1 })).toThrow(TypeError)
    expect(() => createCubbyServer({ dataDir: '/nonexistent-cubby', secret: 'x', logger: null, maxIndexedKeys: 1.5 })).toThrow(TypeError)
    expect(() => createCubbyServer({ secret: 'x', storage: undefined as never, logger: null, pullBatchSize: 0 })).toThrow(TypeError)
  })
})
