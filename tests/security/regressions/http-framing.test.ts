import { connect } from 'node:net'
import { startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

/**
 * Regressions from the fuzz suite (tests/security/fuzz.test.ts): requests Node's HTTP parser refuses got a bare
 * `400` with no body, not a typed error. Found with seed 1091637815 and -1267228957 (before the arbitraries were
 * tuned): a GET or OPTIONS with an unframed body, and a body-carrying request on a kept-alive connection.
 */

async function exchange(port: number, raw: string): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.end(raw)
  await closed
  return Buffer.concat(chunks).toString()
}

it('answers malformed HTTP with a typed JSON error', async () => {
  await using server = await startCliServer()
  const unframed = await exchange(server.port, 'GET /v1/values HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\ntrue')
  expect(unframed).toMatch(/^HTTP\/1\.1 400 /)
  expect(unframed).toContain('{"error":{"code":"BAD_MESSAGE"')
  const garbage = await exchange(server.port, 'NOT HTTP AT ALL\r\n\r\n')
  expect(garbage).toContain('"BAD_MESSAGE"')
  const hugeHeader = await exchange(server.port, `GET /v1/values HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`)
  expect(hugeHeader).toMatch(/^HTTP\/1\.1 431 [\s\S]*"MESSAGE_TOO_LARGE"/)
})

it('keeps serving a kept-alive connection after a refused request that carried a body', async () => {
  await using server = await startCliServer()
  const token = server.token('keepalive')
  const socket = connect(server.port, '127.0.0.1')
  let text = ''
  socket.on('data', (c: Buffer) => (text += c.toString()))
  socket.write(`HEAD /v1/values/k HTTP/1.1\r\nHost: x\r\nOrigin: null\r\nContent-Length: 4\r\n\r\ntrue`)
  socket.write(`OPTIONS /v1/values HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:5173\r\nContent-Length: 4\r\n\r\ntrue`)
  socket.write(`GET /v1/values HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`)
  await vi.waitFor(() => expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 403', 'HTTP/1.1 204', 'HTTP/1.1 200']))
  socket.destroy()
})
