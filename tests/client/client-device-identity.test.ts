import { randomUUID } from 'node:crypto'
import { type Cubby, createIdbCache } from '@cubby/client'
import { DEVICE_USER_PREFIX, MAX_DEVICE_TOKEN_SECONDS } from '@cubby/protocol'
import { type CliServer, connectTestClient, startCliServer, thumbprint } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'

/** Rejects, naming `what`, when `promise` has not settled within 5 s: a call that waits for the network. */
const atOnce = <T>(what: string, promise: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not resolve without the server`)), 5_000)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** The value the server holds for `userId`, read over HTTP with a token the server signs. */
async function onServer(server: CliServer, userId: string, key: string): Promise<unknown> {
  const res = await fetch(`${server.url}/v1/values/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${server.token(userId)}` } })
  return res.status === 404 ? undefined : ((await res.json()) as unknown)
}

/** A WebSocket class that keeps the token of every hello the client sends. */
function helloTokens(): { WebSocket: typeof globalThis.WebSocket; tokens: string[] } {
  const tokens: string[] = []
  class Watched extends WebSocket {
    override send(data: string): void {
      const frame = JSON.parse(data) as { type: string; token?: string }
      if (frame.type === 'hello' && frame.token !== undefined) tokens.push(frame.token)
      super.send(data)
    }
  }
  return { WebSocket: Watched as unknown as typeof globalThis.WebSocket, tokens }
}

const decodePart = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>

/** Writes, reads and lists on a client whose server has never answered; each call must resolve at once. */
async function useOffline(client: Cubby, tag: string): Promise<void> {
  await atOnce('store', client.store(`${tag}/a`, 1))
  await atOnce('store', client.store(`${tag}/b`, 2))
  await atOnce('delete', client.delete(`${tag}/b`))
  expect(await atOnce('get', client.get(`${tag}/a`))).toBe(1)
  expect(await atOnce('list', client.list({ prefix: `${tag}/` }))).toEqual([`${tag}/a`])
  expect(await atOnce('entries', client.entries({ prefix: `${tag}/` }))).toEqual([[`${tag}/a`, 1]])
}

describe('the device identity against the real server process', () => {
  it('works at once with the server down at first start, says offline, keeps its identity across a reload, and syncs once the server starts', async () => {
    await using server = await startCliServer()
    await server.stop()
    const name = `device-${randomUUID()}`
    const first = connectTestClient(server.url, { name })
    await useOffline(first, 'first')
    const userId = first.userId!
    expect(userId.startsWith(DEVICE_USER_PREFIX)).toBe(true)
    await vi.waitFor(() => expect(first.status).toBe('offline'))
    expect(first.pendingCount).toBe(3)
    await first.close()

    // A reload before the server ever answered: the same IndexedDB, the same user, the writes still pending.
    await using second = connectTestClient(server.url, { name })
    expect(await atOnce('get', second.get('first/a'))).toBe(1)
    expect(second.userId).toBe(userId)
    await useOffline(second, 'second')
    expect(second.pendingCount).toBe(6)
    await vi.waitFor(() => expect(second.status).toBe('offline'))

    await server.start()
    await vi.waitFor(() => expect(second.status).toBe('online'), { timeout: 15_000 })
    await second.synced()
    expect(await onServer(server, userId, 'first/a')).toBe(1)
    expect(await onServer(server, userId, 'second/a')).toBe(1)
    expect(await onServer(server, userId, 'second/b')).toBeUndefined()
  })

  it('works at once with connect: false, and syncs after connect()', async () => {
    await using server = await startCliServer()
    await using client = connectTestClient(server.url, { connect: false })
    await useOffline(client, 'later')
    expect(client.status).toBe('offline')
    client.connect()
    await client.synced()
    expect(await onServer(server, client.userId!, 'later/a')).toBe(1)
  })

  it('sends a short-lived ES256 device token for this server, which the server accepts as the key\'s user', async () => {
    await using server = await startCliServer()
    const sockets = helloTokens()
    await using client = connectTestClient(server.url, { WebSocket: sockets.WebSocket })
    await client.ready()
    const [token] = sockets.tokens
    const [header, claims] = token!.split('.').map((part, i) => (i < 2 ? decodePart(part) : {}))
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT', jwk: { kty: 'EC', crv: 'P-256' } })
    expect(Object.keys(header!.jwk as object).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    expect(client.userId).toBe(DEVICE_USER_PREFIX + (await thumbprint(header!.jwk as { crv: string; kty: string; x: string; y: string })))
    expect(claims).toMatchObject({ sub: client.userId, aud: server.url })
    const { iat, exp } = claims as { iat: number; exp: number }
    expect(exp - iat).toBeGreaterThan(0)
    expect(exp - iat).toBeLessThanOrEqual(MAX_DEVICE_TOKEN_SECONDS)
    await client.store('k', 'v')
    await client.synced()
    expect(await onServer(server, client.userId!, 'k')).toBe('v')
  })

  it('keeps the same identity across reloads and signs a fresh token for each connection', async () => {
    await using server = await startCliServer()
    const name = `device-${randomUUID()}`
    const sockets = helloTokens()
    let userId: string | undefined
    for (let reload = 0; reload < 3; reload++) {
      await using client = connectTestClient(server.url, { name, WebSocket: sockets.WebSocket })
      await client.ready()
      userId ??= client.userId
      expect(client.userId).toBe(userId)
      await client.store(`reload-${reload}`, reload)
      await client.synced()
    }
    expect(new Set(sockets.tokens.map((t) => decodePart(t.split('.')[1]!).sub))).toEqual(new Set([userId]))
    expect(await onServer(server, userId!, 'reload-2')).toBe(2)
  })

  it('reports UNAUTHORIZED from a server that refuses anonymous users, stays offline and keeps the writes', async () => {
    await using server = await startCliServer({ args: ['--no-anonymous'] })
    await using client = connectTestClient(server.url)
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(`${e.detail.error.code} ${e.detail.stopped}`))
    await client.store('kept', 1)
    await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED identity']))
    await vi.waitFor(() => expect(client.status).toBe('offline'))
    expect(await client.get('kept')).toBe(1)
    expect(client.pendingCount).toBe(1)
  })

  it('reports BAD_MESSAGE naming the URL, on the error event and in the status, when pointed at a wrong base path', async () => {
    await using server = await startCliServer()
    const url = `${server.url}/wrong`
    let attempts = 0
    class Counted extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        attempts++
      }
    }
    await using client = connectTestClient(url, { WebSocket: Counted as unknown as typeof globalThis.WebSocket })
    const errors: Array<{ code: string; message: string }> = []
    const statuses: Array<{ status: string; error?: { code: string } }> = []
    client.addEventListener('error', (e) => errors.push(e.detail.error))
    client.addEventListener('status', (e) => statuses.push(e.detail))
    await client.store('kept', 1)
    await vi.waitFor(() => expect(errors.map((e) => e.code)).toEqual(['BAD_MESSAGE']), { timeout: 10_000 })
    expect(errors[0]!.message).toContain(url)
    expect(statuses.at(-1)).toMatchObject({ status: 'offline', error: { code: 'BAD_MESSAGE' } })
    expect(client.pendingCount).toBe(1)
    // Said once while it stays wrong, not at every attempt.
    await vi.waitFor(() => expect(attempts).toBeGreaterThan(2), { timeout: 15_000 })
    expect(errors).toHaveLength(1)
  })
})

describe('a server-issued anonymous identity from an earlier version', () => {
  it('expires after 7 days by default, now that the client refreshes it', async () => {
    await using server = await startCliServer()
    const { token } = (await (await fetch(`${server.url}/v1/identities`, { method: 'POST' })).json()) as { token: string }
    const { iat, exp } = decodePart(token.split('.')[1]!) as { iat: number; exp: number }
    expect(exp - iat).toBe(7 * 24 * 60 * 60)
  })

  it('keeps working, is refreshed before its short TTL runs out, and loses no queued write', async () => {
    await using server = await startCliServer({ args: ['--anonymous-token-ttl', '6'] })
    const issued = (await (await fetch(`${server.url}/v1/identities`, { method: 'POST' })).json()) as { userId: string; token: string }
    const name = `device-${randomUUID()}`
    await createIdbCache({ name }).saveIdentity(issued)
    const refreshes: number[] = []
    const countingFetch: typeof fetch = (input, init) => {
      if (new Request(input).url.endsWith('/v1/tokens/refresh')) refreshes.push(Date.now())
      return globalThis.fetch(input, init)
    }
    const errors: string[] = []
    {
      await using client = connectTestClient(server.url, { name, fetch: countingFetch })
      client.addEventListener('error', (e) => errors.push(e.detail.error.code))
      await client.ready()
      expect(client.userId).toBe(issued.userId)
      // Writes keep coming while the token is renewed (the session moves to the new token before the old one's exp).
      const expiry = (decodePart(issued.token.split('.')[1]!) as { exp: number }).exp
      let n = 0
      await vi.waitFor(
        async () => {
          await client.store(`w${n}`, n++)
          expect(Date.now()).toBeGreaterThan(expiry * 1000 + 1_500)
        },
        { timeout: 15_000, interval: 100 },
      )
      await client.synced()
      expect(refreshes.length).toBeGreaterThanOrEqual(1)
      for (const i of [0, n - 1]) expect(await onServer(server, issued.userId, `w${i}`)).toBe(i)
    }
    // The refreshed token was kept: a reload after the first token expired connects as the same user.
    const stored = await createIdbCache({ name }).loadIdentity()
    expect(stored).toMatchObject({ userId: issued.userId })
    expect((stored as { token: string }).token).not.toBe(issued.token)
    await using reloaded = connectTestClient(server.url, { name, fetch: countingFetch })
    reloaded.addEventListener('error', (e) => errors.push(e.detail.error.code))
    await reloaded.ready()
    expect(reloaded.userId).toBe(issued.userId)
    expect(await reloaded.get('w0')).toBe(0)
    expect(errors).toEqual([])
  })
})
