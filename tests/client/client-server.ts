import 'fake-indexeddb/auto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Cubby, type CubbyOptions, createCubby } from '@cubby/client'
import { type CubbyServer, type CubbyServerOptions, createCubbyServer } from '@cubby/server'
import { WebSocket } from 'ws'

/** The secret the test servers sign tokens with, for tests that sign their own (short-lived) tokens. */
export const TEST_SECRET = 'client-tests-secret-0123456789abcdef'

/** A real Cubby server in this process, on a free port, with a temp data dir. */
export interface InProcessServer extends AsyncDisposable {
  readonly cubby: CubbyServer
  readonly url: string
  /** A token for `userId`, signed by this server. */
  token(userId: string): Promise<string>
  /** Closes the server (sockets get 1001) and starts it again on the same port and data. */
  restart(): Promise<void>
}

/** Starts a server for client tests; `await using` stops it and removes its data. */
export async function startServer(options: Partial<CubbyServerOptions> = {}): Promise<InProcessServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-client-'))
  const make = (): CubbyServer => createCubbyServer({ dataDir, secret: TEST_SECRET, logger: null, ...options })
  let cubby = make()
  const { url, port } = await cubby.listen()
  return {
    get cubby() {
      return cubby
    },
    url,
    token: (userId) => cubby.issueToken(userId),
    async restart() {
      await cubby.close()
      cubby = make()
      await cubby.listen({ port })
    },
    async [Symbol.asyncDispose]() {
      await cubby.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

let devices = 0

/** A client with a database name of its own (pass `name` again to simulate a reload). */
export function connectClient(url: string, options: Partial<CubbyOptions> = {}): Cubby {
  return createCubby({
    name: `client-device-${++devices}`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
    ...options,
    url,
  })
}

/** A server frame as a test reads it. */
export type SeenFrame = { type: string; changes?: Array<{ key?: string }> }

/** A WebSocket class that counts the sockets opened with it and keeps every frame the server sent them, parsed. */
export function watchedWebSocket(): { WebSocket: typeof globalThis.WebSocket; opened: () => number; frames: SeenFrame[] } {
  let opened = 0
  const frames: SeenFrame[] = []
  class Watched extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      opened++
      this.addEventListener('message', (event) => frames.push(JSON.parse(event.data as string) as SeenFrame))
    }
  }
  return { WebSocket: Watched as unknown as typeof globalThis.WebSocket, opened: () => opened, frames }
}
