import { createServer } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). Another process may take it before the
 * caller binds it; helpers that spawn servers on it retry on a bind failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Calls `check` every `interval` ms until it returns true; rejects with `message` after `timeout` ms. @internal */
export async function waitUntil(check: () => Promise<boolean>, message: string, { timeout = 15_000, interval = 25 } = {}): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(message)
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
