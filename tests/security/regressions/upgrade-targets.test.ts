import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCubbyServer } from '@cubby/server'
import { rawHttp, startCliServer } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'
import { exchange, parseAnswer } from '../rawTcp.js'

/**
 * Regression: one upgrade request whose target `new URL()` cannot parse (`//[`, `http://[`, `//%`, a port over
 * 65535) threw inside the 'upgrade' listener and ended the process, for the CLI and for apps embedding with
 * attach(). Each must get one well-formed refusal, and the server must keep serving.
 */

const TARGETS = ['//[', 'http://[', '//%', 'http://a:99999/v1/sync', 'http://[::1/v1/sync', '//a b'.replace(' ', '%'), 'http://a:-1/']
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

const upgrade = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`

describe('upgrade requests with unparsable targets', () => {
  it('are refused one by one by the CLI server, which keeps serving', async () => {
    await using server = await startCliServer()
    const pid = server.pid
    for (const target of TARGETS) {
      const answer = parseAnswer(await exchange(server.port, upgrade(target)))
      expect(answer?.status, target).toBe(404)
      expect(answer?.rest, target).toBe('')
      expect((await rawHttp(server.url, 'GET', '/healthz', { fresh: true })).status, target).toBe(200)
    }
    // Signal 0 only checks that the process is still there.
    expect(() => process.kill(pid, 0)).not.toThrow()
    expect(server.pid).toBe(pid)
  })

  it('are left to the host app by attach(), without a throw', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cubby-attach-'))
    const cubby = createCubbyServer({ dataDir, logger: null })
    const http = createServer((_req, res) => res.end('host app'))
    cubby.attach(http)
    // The host's own listener answers the upgrades Cubby does not take.
    http.on('upgrade', (req, socket) => {
      if (req.url !== '/v1/sync') socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const { port } = http.address() as AddressInfo
    try {
      for (const target of TARGETS) expect(parseAnswer(await exchange(port, upgrade(target)))?.status, target).toBe(418)
    } finally {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
      await cubby.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
