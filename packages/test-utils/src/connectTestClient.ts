import 'fake-indexeddb/auto'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { type Cubby, type CubbyOptions, createCubby } from '@cubby/client'

// The real `ws` (Node's build): under happy-dom, an import would resolve its browser stub.
const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: typeof globalThis.WebSocket }

/** Options of {@link connectTestClient}: any client option; `url` comes first as its own argument. */
export type TestClientOptions = Partial<CubbyOptions>

/**
 * Creates a real Cubby client in Node: fake-indexeddb for IndexedDB, the `ws` WebSocket, quick reconnects and a
 * database name of its own unless `name` is given (pass the same name again to simulate a reload of the same
 * browser). Each device gets its own database, so two clients in one process share nothing locally: what one
 * sees of the other can only have come through the server.
 *
 * @example
 * ```ts
 * await using a = connectTestClient(server.url, { auth: server.token('alice') })
 * await using offline = connectTestClient('http://127.0.0.1:9', { auth: offlineToken('alice'), cache: 'memory', connect: false })
 * ```
 */
export function connectTestClient<TSchema extends Record<string, unknown> = Record<string, unknown>>(url: string, options: TestClientOptions = {}): Cubby<TSchema> {
  return createCubby<TSchema>({
    name: `device-${randomUUID()}`,
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
    ...options,
    url,
  })
}
