// Clients for tests, in an entry of its own (@cubby/test-utils/clients): DOM tests can load it, while the main
// entry resolves file paths when it loads, which a happy-dom environment refuses.
import { createRequire } from 'node:module'
import { type Cubby, type CubbyOptions, createCubby } from '@cubby/client'
import type { TestServer } from './startTestServer.js'

// The real `ws` (Node's build): under happy-dom, an import would resolve its browser stub.
const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: typeof globalThis.WebSocket }

let devices = 0

/** An unsigned token naming `userId`: enough for a client that never connects (it reads `sub` unverified). */
export const offlineToken = (userId: string): string =>
  ['{"alg":"none"}', JSON.stringify({ sub: userId })].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.'

/** A client of user `alice` that keeps values in memory and stays offline. */
export function memoryTestCubby<TSchema extends Record<string, unknown>>(options: Partial<CubbyOptions> = {}): Cubby<TSchema> {
  return createCubby<TSchema>({ url: 'http://127.0.0.1:9', auth: offlineToken('alice'), cache: 'memory', connect: false, ...options })
}

/** A client of `userId` connected to a real server (values in memory, a name of its own: each one is its own device). */
export function serverTestCubby<TSchema extends Record<string, unknown>>(server: TestServer, userId: string, deviceName: string): Cubby<TSchema> {
  return createCubby<TSchema>({
    url: server.url,
    auth: server.token(userId),
    cache: 'memory',
    name: `${deviceName}-${++devices}`,
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
  })
}
