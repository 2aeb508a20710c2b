import { createRequire } from 'node:module'
import { type Cubby, type CubbyOptions, createCubby } from '@cubby/client'
import type { TestServer } from '@cubby/test-utils'

/** The schema every test of this package uses (the registration below is global to the test program). */
export type TestSchema = { theme: 'dark' | 'light'; count: number; note: string; [key: `todo/${string}`]: { title: string } }

declare module '@cubby/svelte' {
  interface Register {
    cubby: Cubby<TestSchema>
  }
}

// The real `ws` (Node's build): under happy-dom, an import would resolve its browser stub.
const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: typeof globalThis.WebSocket }

let devices = 0

/** An unsigned token naming `userId`: enough for a client that never connects (it reads `sub` unverified). */
export const offlineToken = (userId: string): string =>
  ['{"alg":"none"}', JSON.stringify({ sub: userId })].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.'

/** A client of user `alice` that keeps values in memory and stays offline. */
export function memoryCubby(options: Partial<CubbyOptions> = {}): Cubby<TestSchema> {
  return createCubby<TestSchema>({ url: 'http://127.0.0.1:9', auth: offlineToken('alice'), cache: 'memory', connect: false, ...options })
}

/** A client of `userId` connected to a real server (values in memory: each one is its own device). */
export function serverCubby(server: TestServer, userId: string): Cubby<TestSchema> {
  return createCubby<TestSchema>({
    url: server.url,
    auth: server.token(userId),
    cache: 'memory',
    name: `svelte-device-${++devices}`,
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
  })
}
