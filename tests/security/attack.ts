import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type CliServer, craftToken, openRawSocket, rawHttp, startCliServer, startRedisDeployment } from '@cubby/test-utils'

export { rawHttp, type HttpAnswer } from '@cubby/test-utils'

/** A node of a deployment, as an attacker or a victim sees it. */
export type Side = Pick<CliServer, 'url' | 'token' | 'secret'>

/** Where an isolation suite runs: the node the attacker talks to, and the node bob (the victim) uses. */
export interface Deployment extends AsyncDisposable {
  readonly attacker: Side
  readonly victim: Side
}

async function twoRedisNodes(attackerNode: 0 | 1): Promise<Deployment> {
  const deployment = await startRedisDeployment()
  const { nodes } = deployment
  return { attacker: nodes[attackerNode], victim: nodes[1 - attackerNode]!, [Symbol.asyncDispose]: () => deployment[Symbol.asyncDispose]() }
}

/**
 * The deployments every isolation suite runs against: one LevelDB node, and two `--redis` nodes on one Redis with
 * the attacker on either node and bob on the other (so whatever crosses nodes, through Redis keys or pub/sub,
 * is attacked too).
 */
export const DEPLOYMENTS: Array<[string, () => Promise<Deployment>]> = [
  ['one LevelDB node', async () => {
    const server = await startCliServer()
    return { attacker: server, victim: server, [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() }
  }],
  ['two Redis nodes, attacker on A, bob on B', () => twoRedisNodes(0)],
  ['two Redis nodes, attacker on B, bob on A', () => twoRedisNodes(1)],
]

const b64 = (data: string | object): string => Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url')

/** Every forgery of a token for `userId` that the server must refuse, by name. */
export function forgedTokens(server: Pick<CliServer, 'secret' | 'token'>, userId: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000)
  const hs256 = { alg: 'HS256', typ: 'JWT' }
  const valid = server.token('mallory').split('.')
  const tamperedPayload = b64({ ...(JSON.parse(Buffer.from(valid[1]!, 'base64url').toString()) as object), sub: userId })
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
export async function stateOf(server: Pick<CliServer, 'url' | 'token'>, userId: string): Promise<{ head: number; changes: unknown[] }> {
  await using socket = await openRawSocket(server.url)
  socket.hello(server.token(userId))
  const welcome = await socket.next('welcome')
  await socket.next('synced')
  // A cold catch-up comes in key order; in revision order it reads as the user's history.
  const changes = socket.frames.filter((f) => f.type === 'changes').flatMap((f) => f.changes as Array<{ rev: number }>)
  return { head: welcome.head, changes: changes.sort((a, b) => a.rev - b.rev) }
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
export async function seed(server: Pick<CliServer, 'url' | 'token'>, userId: string, values: Record<string, unknown>): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    const res = await rawHttp(server.url, 'PUT', `/v1/values/${encodeURIComponent(key)}`, {
      token: server.token(userId), headers: { 'content-type': 'application/json' }, body: JSON.stringify(value),
    })
    if (res.status !== 200) throw new Error(`seeding ${userId}/${key} failed: ${res.status} ${res.text}`)
  }
}
