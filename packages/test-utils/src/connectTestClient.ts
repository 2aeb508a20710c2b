import 'fake-indexeddb/auto'
import { randomUUID } from 'node:crypto'
import { type Cubby, type CubbyOptions, createCubby } from '@cubby/client'
import { WebSocket } from 'ws'

/** Options of {@link connectTestClient}: any client option; `url` comes first as its own argument. */
export type TestClientOptions = Partial<CubbyOptions>

/**
 * Creates a real Cubby client in Node: fake-indexeddb for IndexedDB, the `ws` WebSocket, a database name of
 * its own unless `name` is given (pass the same name again to simulate a reload of the same browser).
 *
 * Each device gets its own database name, so two clients in one process share nothing locally: what one
 * sees of the other can only have come through the server.
 *
 * @example
 * ```ts
 * await using a = connectTestClient(server.url, { auth: server.token('alice') })
 * ```
 */
export function connectTestClient(url: string, options: TestClientOptions = {}): Cubby {
  return createCubby({
    name: `device-${randomUUID()}`,
    // ws's WebSocket is API-compatible with the browser's for what the client uses.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    reconnect: { minDelayMs: 20, maxDelayMs: 250 },
    ...options,
    url,
  })
}
