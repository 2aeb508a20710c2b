import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { openRawSocket, type RawSocket, type TestServer } from '@cubby/test-utils'

/** An HTTP answer, body parsed as JSON where it is JSON. */
export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: unknown
}

/**
 * Sends an HTTP request with the path exactly as given: `fetch` would normalise `..`, `%2E%2E` and more, and an
 * attacker does not have to.
 */
export function rawHttp(
  url: string,
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number; fresh?: boolean } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  // Node sends a GET, HEAD, DELETE or OPTIONS body without any framing unless it is given a length.
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  return new Promise((resolve, reject) => {
    // `fresh`: a connection of its own, so that how one request left a kept-alive connection cannot fail the next.
    const agent = options.fresh === true ? { agent: false as const } : {}
    const req = request(url, { method, headers, path, timeout: options.timeoutMs ?? 10_000, ...agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} got no answer within ${options.timeoutMs ?? 10_000} ms`)))
    req.on('error', reject)
    req.end(options.body)
  })
}

const b64 = (data: string | object): string => Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url')

/** A JWT with any header and payload, signed with HMAC-SHA256 (or left with the given signature). */
export function craftToken(header: object, payload: object, secret: string | { signature: string }): string {
  const signingInput = `${b64(header)}.${b64(payload)}`
  const signature = typeof secret === 'string' ? createHmac('sha256', secret).update(signingInput).digest('base64url') : secret.signature
  return `${signingInput}.${signature}`
}

/** Every forgery of a token for `userId` that the server must refuse, by name. */
export function forgedTokens(server: Pick<TestServer, 'secret' | 'token'>, userId: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000)
  const hs256 = { alg: 'HS256', typ: 'JWT' }
  const valid = server.token('mallory').split('.')
  const tamperedPayload = b64({ ...JSON.parse(Buffer.from(valid[1]!, 'base64url').toString()), sub: userId })
  return {
    'wrong secret': craftToken(hs256, { sub: userId, iat: now }, 'not-the-secret'),
    'alg none': craftToken({ alg: 'none', typ: 'JWT' }, { sub: userId, iat: now }, { signature: '' }),
    'alg None, signed': craftToken({ alg: 'None' }, { sub: userId }, server.secret),
    'alg HS512 with the right secret': (() => {
      const input = `${b64({ alg: 'HS512' })}.${b64({ sub: userId })}`
      return `${input}.${createHmac('sha512', server.secret).update(input).digest('base64url')}`
    })(),
    'alg RS256 header over an HMAC': craftToken({ alg: 'RS256' }, { sub: userId }, server.secret),
    'tampered sub': `${valid[0]}.${tamperedPayload}.${valid[2]}`,
    'signature stripped': `${valid[0]}.${tamperedPayload}.`,
    'expired': craftToken(hs256, { sub: userId, iat: now - 7200, exp: now - 3600 }, server.secret),
    'not yet valid': craftToken(hs256, { sub: userId, iat: now, nbf: now + 3600 }, server.secret),
    'sub as an array': craftToken(hs256, { sub: [userId] }, server.secret),
    'no sub, user in another claim': craftToken(hs256, { userId, user: userId, uid: userId }, server.secret),
    'two tokens': `${server.token('mallory')} ${craftToken(hs256, { sub: userId }, 'x')}`,
    'huge': craftToken(hs256, { sub: userId, pad: 'x'.repeat(200_000) }, 'x'),
    'not a jwt': `${userId}`,
  }
}

/** What a user's catch-up from revision 0 holds: the head and every change, tombstones and clears included. */
export async function stateOf(server: Pick<TestServer, 'url' | 'token'>, userId: string): Promise<{ head: number; changes: unknown[] }> {
  await using socket = await openRawSocket(server.url)
  socket.hello(server.token(userId))
  const welcome = await socket.next('welcome')
  await socket.next('synced')
  // A cold catch-up comes in key order; in revision order it reads as the user's history.
  const changes = socket.frames.filter((f) => f.type === 'changes').flatMap((f) => f.changes as Array<{ rev: number }>)
  return { head: welcome.head as number, changes: changes.sort((a, b) => a.rev - b.rev) }
}

/** Opens a socket for `userId`, says hello and waits for `synced`. */
export async function session(server: Pick<TestServer, 'url' | 'token'>, userId: string): Promise<RawSocket> {
  const socket = await openRawSocket(server.url)
  socket.hello(server.token(userId))
  await socket.next('synced')
  return socket
}

/** A frame and close code a socket got in answer to a first frame. */
export async function answerToHello(url: string, frame: object | string): Promise<{ frames: unknown[]; close: number }> {
  await using socket = await openRawSocket(url)
  socket.send(frame)
  const close = await socket.closed
  return { frames: socket.frames, close }
}

/** Resident and peak memory of a process, in bytes, from /proc (Linux). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024
  return { rss: kib('VmRSS'), peak: kib('VmHWM') }
}

/** Stores values for a user over HTTP (the victim's data the attacks must not reach). */
export async function seed(server: Pick<TestServer, 'url' | 'token'>, userId: string, values: Record<string, unknown>): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    const res = await rawHttp(server.url, 'PUT', `/v1/values/${encodeURIComponent(key)}`, {
      token: server.token(userId), headers: { 'content-type': 'application/json' }, body: JSON.stringify(value),
    })
    if (res.status !== 200) throw new Error(`seeding ${userId}/${key} failed: ${res.status} ${res.text}`)
  }
}
