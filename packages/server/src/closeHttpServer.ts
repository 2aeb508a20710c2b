import type { Server } from 'node:http'

/** How long open requests get to finish before their connections are cut. */
const GRACE_MS = 2000

/**
 * Stops an http server listening, lets requests in progress finish (cutting them after a grace period), and
 * resolves once it is closed.
 * @internal
 */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    const timer = setTimeout(() => server.closeAllConnections(), GRACE_MS).unref()
    server.close(() => {
      clearTimeout(timer)
      resolve()
    })
    server.closeIdleConnections()
  })
}
