import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'
import { connectUser, openRawSocket, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { rawHttp, stateOf } from './attack.js'

const JSON_TYPE = { 'content-type': 'application/json' }

/** Tries a WebSocket upgrade and tells how it went: 'open', or the HTTP status and JSON body of the refusal. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<'open' | { status: number; body: unknown; retryAfter: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/sync`, { headers })
    ws.once('open', () => {
      ws.terminate()
      resolve('open')
    })
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text), retryAfter: res.headers['retry-after'] })
      })
    })
    ws.once('error', reject)
  })
}

describe('quota', () => {
  it('rejects writes past the key and byte quota with QUOTA_EXCEEDED, keeps nothing of them, and remembers usage across restarts', async () => {
    await using server = await startCliServer({ args: ['--max-user-keys', '3', '--max-user-bytes', '1000'] })
    await using socket = await connectUser(server, 'quinn')
    socket.send({
      type: 'push', clientId: 'c',
      mutations: ['a', 'b', 'c', 'd'].map((key, i) => ({ op: 'store', mid: i + 1, key, value: '1' })),
    })
    expect((await socket.next('ack')).results).toEqual([
      { mid: 1, rev: 1 }, { mid: 2, rev: 2 }, { mid: 3, rev: 3 }, { mid: 4, error: { code: 'QUOTA_EXCEEDED', message: expect.any(String) } },
    ])
    const before = await stateOf(server, 'quinn')
    expect(before.head).toBe(3)
    const put = await rawHttp(server.url, 'PUT', '/v1/values/e', { token: server.token('quinn'), headers: JSON_TYPE, body: '1' })
    expect([put.status, put.json]).toEqual([413, { error: { code: 'QUOTA_EXCEEDED', message: expect.any(String) } }])
    const big = await rawHttp(server.url, 'PUT', '/v1/values/a', { token: server.token('quinn'), headers: JSON_TYPE, body: JSON.stringify('x'.repeat(900)) })
    expect((big.json as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED')
    expect(await stateOf(server, 'quinn')).toEqual(before)
    // Another user has a quota of their own.
    expect((await rawHttp(server.url, 'PUT', '/v1/values/e', { token: server.token('other'), headers: JSON_TYPE, body: '1' })).status).toBe(200)

    await server.restart()
    const again = await rawHttp(server.url, 'PUT', '/v1/values/e', { token: server.token('quinn'), headers: JSON_TYPE, body: '1' })
    expect(again.status).toBe(413)
    expect((await rawHttp(server.url, 'DELETE', '/v1/values/a', { token: server.token('quinn') })).status).toBe(200)
    expect((await rawHttp(server.url, 'PUT', '/v1/values/e', { token: server.token('quinn'), headers: JSON_TYPE, body: '1' })).status).toBe(200)
  })
})

describe('rate limits', () => {
  it('closes a WebSocket that sends faster than its limit with RATE_LIMITED and a retry-after hint', async () => {
    await using server = await startCliServer({ args: ['--rate-per-connection', '1', '--burst-per-connection', '5'] })
    await using socket = await connectUser(server, 'rita')
    for (let i = 0; i < 10; i++) socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: i + 1, key: `k${i}`, value: '1' }] })
    expect(await socket.closed).toBe(4029)
    expect(socket.frames.filter((f) => f.type === 'error')).toEqual([{ type: 'error', code: 'RATE_LIMITED', message: expect.any(String), retryAfter: 1 }])
    // The hello took one token, so four pushes went through (unacknowledged: the socket closed before their
    // commits; the client sends them again and exactly-once keeps them single); nothing after the limit was written.
    await vi.waitFor(async () => expect((await stateOf(server, 'rita')).head).toBe(4), { timeout: 10_000 })
    // The limit is per connection: a new one starts with a full bucket.
    await using fresh = await connectUser(server, 'rita')
    fresh.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 5, key: 'k4', value: '1' }] })
    expect((await fresh.next('ack')).results).toEqual([{ mid: 5, rev: 5 }])
  })

  it('limits a remote address across requests and upgrades, with Retry-After', async () => {
    await using server = await startCliServer({ args: ['--rate-per-address', '0.5', '--burst-per-address', '10'] })
    const token = server.token('ada')
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await rawHttp(server.url, 'GET', '/v1/values', { token })).status)
    expect(statuses).toEqual(Array(10).fill(200))
    const limited = await rawHttp(server.url, 'GET', '/v1/values', { token })
    expect(limited.status).toBe(429)
    expect(limited.json).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfter: 2 } })
    expect(limited.headers['retry-after']).toBe('2')
    expect(await upgrade(server.url)).toEqual({ status: 429, body: { error: expect.objectContaining({ code: 'RATE_LIMITED' }) }, retryAfter: '2' })
    // Health checks are not counted.
    expect((await rawHttp(server.url, 'GET', '/healthz')).status).toBe(200)
  })

  it('lets one address mint 20 anonymous identities at once by default, then answers 429 with Retry-After', async () => {
    await using server = await startCliServer()
    let issued = 0
    let limited: Awaited<ReturnType<typeof rawHttp>> | undefined
    // Bounded: without a limit, all 200 would be issued.
    for (let i = 0; i < 200 && limited === undefined; i++) {
      const res = await rawHttp(server.url, 'POST', '/v1/identities')
      if (res.status === 201) issued++
      else limited = res
    }
    // 20 at once, and one more per 6 s the loop might have lasted.
    expect(issued).toBeGreaterThanOrEqual(20)
    expect(issued).toBeLessThanOrEqual(22)
    expect(limited?.status).toBe(429)
    expect(limited?.json).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfter: expect.any(Number) } })
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // Only identities are limited: the address can still use the API.
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('ada') })).status).toBe(200)
  })

  it('takes the identity limit from --identities-per-minute and CUBBY_IDENTITY_BURST, per address', async () => {
    await using server = await startCliServer({ args: ['--identities-per-minute', '1', '--trust-proxy'], env: { CUBBY_IDENTITY_BURST: '2' } })
    const from = (address: string): Promise<number> =>
      rawHttp(server.url, 'POST', '/v1/identities', { headers: { 'x-forwarded-for': address } }).then((r) => r.status)
    expect([await from('10.0.0.1'), await from('10.0.0.1'), await from('10.0.0.1')]).toEqual([201, 201, 429])
    const limited = await rawHttp(server.url, 'POST', '/v1/identities', { headers: { 'x-forwarded-for': '10.0.0.1' } })
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(50)
    // Another address has a bucket of its own.
    expect(await from('10.0.0.2')).toBe(201)
  })
})

describe('connection caps', () => {
  it('caps sync sockets per user, and frees a place when one closes', async () => {
    await using server = await startCliServer({ args: ['--max-connections-per-user', '2'] })
    await using one = await connectUser(server, 'cap')
    await using two = await connectUser(server, 'cap')
    await using third = await openRawSocket(server.url)
    third.hello(server.token('cap'))
    expect(await third.closed).toBe(4029)
    expect(third.frames).toEqual([{ type: 'error', code: 'RATE_LIMITED', message: expect.any(String), retryAfter: 10 }])
    await using otherUser = await connectUser(server, 'someone-else')
    one.ws.close()
    // The server frees the place once it has seen the close; until then a new socket is still refused.
    await vi.waitFor(async () => {
      await using next = await openRawSocket(server.url)
      next.hello(server.token('cap'))
      const outcome = await Promise.race([next.next('synced').then(() => 'synced'), next.closed])
      expect(outcome).toBe('synced')
    }, { timeout: 10_000 })
    expect(two.ws.readyState).toBe(WebSocket.OPEN)
    expect(otherUser.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('caps sync sockets per remote address at the upgrade', async () => {
    await using server = await startCliServer({ args: ['--max-connections-per-address', '3'] })
    const sockets = await Promise.all([1, 2, 3].map(() => openRawSocket(server.url)))
    expect(await upgrade(server.url)).toEqual({ status: 429, body: { error: expect.objectContaining({ code: 'RATE_LIMITED' }) }, retryAfter: '10' })
    await sockets[0]![Symbol.asyncDispose]()
    await vi.waitFor(async () => expect(await upgrade(server.url)).toBe('open'), { timeout: 10_000 })
    for (const s of sockets.slice(1)) await s[Symbol.asyncDispose]()
  })
})

describe('message size', () => {
  it('closes a WebSocket with 1009 on the header of an oversized frame, before its payload arrives', async () => {
    await using server = await startCliServer({ args: ['--max-message-bytes', '65536'] })
    const socket = connect(server.port, '127.0.0.1')
    const received: Buffer[] = []
    socket.on('data', (d: Buffer) => received.push(d))
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write([
      'GET /v1/sync HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', '',
    ].join('\r\n'))
    await vi.waitFor(() => expect(Buffer.concat(received).toString()).toContain('101 Switching Protocols'), { timeout: 10_000 })
    received.length = 0
    // A masked text frame that announces 1 GiB (64-bit length) and carries 16 bytes of it.
    const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4])
    socket.write(Buffer.concat([header, Buffer.alloc(16)]))
    await ended
    const close = Buffer.concat(received)
    expect(close[0]).toBe(0x88)
    expect(close.readUInt16BE(2)).toBe(1009)
  })

  it('answers 413 MESSAGE_TOO_LARGE to an oversized HTTP body from its Content-Length, before the body is sent', async () => {
    await using server = await startCliServer({ args: ['--max-message-bytes', '65536'] })
    const socket = connect(server.port, '127.0.0.1')
    const received: Buffer[] = []
    socket.on('data', (d: Buffer) => received.push(d))
    socket.write([
      'PUT /v1/values/big HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${server.token('big')}`,
      'Content-Type: application/json', `Content-Length: ${1024 ** 3}`, '', '"xxxx',
    ].join('\r\n'))
    await vi.waitFor(() => expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1\.1 413[\s\S]*"MESSAGE_TOO_LARGE"/), { timeout: 10_000 })
    socket.destroy()
  })

  it('answers 413 to a chunked body as soon as it passes the limit, and closes, instead of reading it to its end', async () => {
    const limit = 65_536
    await using server = await startCliServer({ args: ['--max-message-bytes', String(limit)] })
    const socket = connect(server.port, '127.0.0.1')
    let answer = ''
    let closed = false
    socket.on('data', (d: Buffer) => (answer += d.toString())).on('close', () => (closed = true)).on('error', () => {})
    socket.write([
      'PUT /v1/values/big HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${server.token('big')}`,
      'Content-Type: application/json', 'Transfer-Encoding: chunked', '', '',
    ].join('\r\n'))
    // Sent slowly, 16 KiB at a time, so the bytes sent when the answer comes are about the bytes the server read
    // (and not whatever the socket buffers took in the meantime). Without a stop, the whole 48 MiB is read first.
    const chunk = `4000\r\n"${'x'.repeat(16_382)}"\r\n`
    let sent = 0
    while (answer === '' && !closed && sent < 48 * 1024 * 1024) {
      await new Promise<void>((resolve) => socket.write(chunk, () => resolve()))
      sent += 16_384
      // Paces the upload (the loop's condition is the wait), as the comment above explains.
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await vi.waitFor(() => expect(answer).toMatch(/^HTTP\/1\.1 413[\s\S]*"MESSAGE_TOO_LARGE"/), { timeout: 10_000 })
    expect(sent).toBeLessThan(limit + 4 * 1024 * 1024)
    await vi.waitFor(() => expect(closed).toBe(true))
    socket.destroy()
    expect((await rawHttp(server.url, 'GET', '/v1/values/big', { token: server.token('big') })).status).toBe(404)
  })
})

describe('allowed origins', () => {
  it('lets local development and the server\'s own origin in by default, and refuses other browser origins', async () => {
    await using server = await startCliServer()
    const token = server.token('olive')
    expect(await upgrade(server.url, { origin: 'http://localhost:5173' })).toBe('open')
    expect(await upgrade(server.url, { origin: server.url })).toBe('open')
    expect(await upgrade(server.url)).toBe('open')
    expect(await upgrade(server.url, { origin: 'https://evil.example' })).toEqual({ status: 403, body: { error: expect.objectContaining({ code: 'FORBIDDEN' }) }, retryAfter: undefined })

    const evil = await rawHttp(server.url, 'POST', '/v1/identities', { headers: { origin: 'https://evil.example' } })
    expect([evil.status, evil.json, evil.headers['access-control-allow-origin']]).toEqual([403, { error: { code: 'FORBIDDEN', message: expect.any(String) } }, undefined])
    const preflight = await rawHttp(server.url, 'OPTIONS', '/v1/values/k', {
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'http://localhost:5173', 'access-control-allow-methods': expect.stringContaining('PUT'),
      'access-control-allow-headers': expect.stringMatching(/authorization/i), vary: expect.stringContaining('Origin'),
    })
    const get = await rawHttp(server.url, 'GET', '/v1/values', { token, headers: { origin: 'http://localhost:5173' } })
    expect([get.status, get.headers['access-control-allow-origin']]).toEqual([200, 'http://localhost:5173'])
  })

  it('takes the list from --allowed-origins', async () => {
    await using server = await startCliServer({ args: ['--allowed-origins', 'https://app.example.com'] })
    expect(await upgrade(server.url, { origin: 'https://app.example.com' })).toBe('open')
    expect(await upgrade(server.url, { origin: 'http://localhost:5173' })).toMatchObject({ status: 403 })
    const res = await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('x'), headers: { origin: 'http://localhost:5173' } })
    expect(res.status).toBe(403)
  })
})
