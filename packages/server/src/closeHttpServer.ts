import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'

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

/**
 * Answers a request Node's HTTP parser refused (malformed, or headers over Node's limit) with a typed JSON error
 * like every other refusal, instead of Node's bare `400`, then closes the connection.
 * @internal
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy()
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW'
  const body = JSON.stringify({ error: tooLarge
    ? { code: 'MESSAGE_TOO_LARGE', message: 'The request headers are too large' }
    : { code: 'BAD_MESSAGE', message: 'The request is not valid HTTP' } })
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}
