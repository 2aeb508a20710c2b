import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeValue } from '@cubby/protocol'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { connectUser, openRawSocket, type RawSocket, startTestServer, type TestServer } from '@cubby/test-utils'
import { createLevelStorage } from '../storage/createLevelStorage.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'

/** The server still serves a fresh connection end to end. */
async function expectStillServing(server: TestServer): Promise<void> {
  await using other = await connectUser(server, 'someone-else')
  other.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] })
  await other.next('ack')
}

async function expectRejectedHello(server: TestServer, frame: unknown, code: string, closeCode: number): Promise<RawSocket> {
  const socket = await openRawSocket(server.url)
  socket.send(frame)
  expect(await socket.closed).toBe(closeCode)
  // Both refused tokens of these tests are simply not valid.
  const reason = code === 'UNAUTHORIZED' ? { reason: 'invalid' } : {}
  expect(socket.frames).toEqual([{ type: 'error', code, message: expect.any(String), ...reason }])
  return socket
}

describe('sync errors', () => {
  it('answers BAD_MESSAGE to malformed frames and keeps the session', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    socket.send('not json')
    socket.send(Buffer.from([1, 2, 3]))
    socket.send({ type: 'subscribe' })
    socket.send({ type: 'push', clientId: 'c', mutations: [] })
    socket.send({ type: 'hello', v: 1, token: 'x', cursor: 0 })
    socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] })
    await socket.next('ack')
    const errors = socket.frames.filter((m) => m.type === 'error')
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill('BAD_MESSAGE'))
    expect(socket.ws.readyState).toBe(socket.ws.OPEN)
  })

  it('rejects each bad mutation on its own and commits the rest', async () => {
    await using server = await startTestServer({ limits: { maxValueBytes: 10, maxKeyBytes: 8 } })
    await using socket = await connectUser(server, 'alice')
    socket.send({ type: 'push', clientId: 'c', mutations: [
      { op: 'store', mid: 1, key: '', value: '1' },
      { op: 'store', mid: 2, key: 'k'.repeat(9), value: '1' },
      { op: 'store', mid: 3, key: 'big', value: encodeValue('x'.repeat(20)) },
      { op: 'store', mid: 4, key: 'bad', value: '{nope' },
      { op: 'delete', mid: 5, key: '\uD800' },
      { op: 'store', mid: 6, key: 'lone', value: '"\uD800"' },
      { op: 'store', mid: 7, key: 'ok', value: '"\\uD800"' },
    ] })
    const ack = await socket.next('ack')
    expect(ack.results.map((r) => ('error' in r ? r.error.code : r.rev))).toEqual(['INVALID_KEY', 'INVALID_KEY', 'VALUE_TOO_LARGE', 'INVALID_VALUE', 'INVALID_KEY', 'INVALID_VALUE', 1])
    expect(await server.cubby.list('alice')).toEqual(['ok'])
  })

  it('closes with 4003 when the first frame is not a hello', async () => {
    await using server = await startTestServer()
    await using _a = await expectRejectedHello(server, { type: 'push', clientId: 'c', mutations: [{ op: 'clear', mid: 1 }] }, 'BAD_MESSAGE', 4003)
    await using _b = await expectRejectedHello(server, '{oops', 'BAD_MESSAGE', 4003)
    await using _c = await expectRejectedHello(server, Buffer.from('{}'), 'BAD_MESSAGE', 4003)
    await expectStillServing(server)
  })

  it('closes with 4002 on an unsupported protocol version', async () => {
    await using server = await startTestServer()
    await using _ = await expectRejectedHello(server, { type: 'hello', v: 999, token: 't', cursor: 0 }, 'PROTOCOL_VERSION', 4002)
  })

  it('closes with 4001 on a bad token, and on a token for another secret', async () => {
    await using server = await startTestServer()
    await using other = await startTestServer()
    await using _a = await expectRejectedHello(server, { type: 'hello', v: 1, token: 'garbage', cursor: 0 }, 'UNAUTHORIZED', 4001)
    const foreign = other.token('alice')
    await using _b = await expectRejectedHello(server, { type: 'hello', v: 1, token: foreign, cursor: 0 }, 'UNAUTHORIZED', 4001)
    await expectStillServing(server)
  })

  it('closes with 4004 when no hello comes in time', async () => {
    await using server = await startTestServer({ helloTimeoutMs: 50 })
    await using socket = await openRawSocket(server.url)
    expect(await socket.closed).toBe(4004)
  })

  it('closes with 1009 on a frame over maxMessageBytes and serves others', async () => {
    await using server = await startTestServer({ limits: { maxMessageBytes: 1024, maxValueBytes: 512 } })
    await using socket = await connectUser(server, 'alice')
    socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: encodeValue('x'.repeat(2000)) }] })
    expect(await socket.closed).toBe(1009)
    await expectStillServing(server)
  })

  it('cuts a socket that does not answer pings', async () => {
    await using server = await startTestServer({ heartbeatMs: 20 })
    await using socket = await openRawSocket(server.url, { ws: { autoPong: false } })
    expect(await socket.closed).toBe(1006)
  })

  it('refuses upgrades on other paths', async () => {
    await using server = await startTestServer()
    await expect(openRawSocket(`${server.url.replace('http', 'ws')}/v1/elsewhere`)).rejects.toThrow()
  })
})

describe('a commit that fails', () => {
  it('is not acknowledged: the socket closes 1011 without an ack, and the retry on a new socket is applied once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cubby-failing-'))
    const db = new Level(join(dir, 'db'))
    const storage = createLevelStorage({ db })
    let failNext = false
    const commit: CubbyStorage['commit'] = (...args) => {
      if (!failNext) return storage.commit(...args)
      failNext = false
      return Promise.reject(new Error('storage unreachable'))
    }
    // The real storage, but its next commit fails (the way Redis going away mid-commit does).
    const failing = new Proxy(storage, {
      get: (target, name) => {
        if (name === 'commit') return commit
        const value: unknown = Reflect.get(target, name)
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
    try {
      await using server = await startTestServer({ storage: failing })
      const push = { type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] }
      await using first = await connectUser(server, 'alice')
      failNext = true
      first.send(push)
      expect(await first.closed).toBe(1011)
      expect(first.frames.filter((m) => m.type === 'ack')).toEqual([])
      await using second = await connectUser(server, 'alice')
      second.send(push)
      expect((await second.next('ack')).results).toEqual([{ mid: 1, rev: 1 }])
      expect(await storage.head('alice')).toBe(1)
    } finally {
      await storage.close()
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
