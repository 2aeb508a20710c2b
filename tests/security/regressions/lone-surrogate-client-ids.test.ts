import { openRawSocket, startCliServer } from '@cubby/test-utils'
import { expect, it } from 'vitest'
import { rawHttp } from '../attack.js'

/**
 * Regression: the client ids `\uD800` and `\uDC00` (lone surrogates) both became U+FFFD in LevelDB's UTF-8 and
 * shared one exactly-once record, so the second client's write of mid 1 was acknowledged with the first one's rev
 * and never stored. Every write must be either refused or stored: never acknowledged and dropped.
 */
it('never acknowledges a write it dropped, whatever the client id', async () => {
  await using server = await startCliServer()
  const token = server.token('surrogates')
  await using socket = await openRawSocket(server.url)
  socket.hello(token)
  await socket.next('synced')
  const ids = ['\uD800', '\uDC00', 'a\uDBFF', '\uDFFFb', '\uD800\uD800']
  for (const [i, clientId] of ids.entries()) {
    const from = socket.frames.length
    // JSON.stringify escapes lone surrogates (\ud800), exactly as a hostile client would send them.
    socket.send({ type: 'push', clientId, mutations: [{ op: 'store', mid: 1, key: `k${i}`, value: String(i) }] })
    const answer = await Promise.race([
      socket.next('ack', (f) => f.clientId === clientId, from),
      socket.next('error', () => true, from),
    ])
    if (answer.type === 'error') {
      expect(answer.code).toBe('BAD_MESSAGE')
      continue
    }
    const [result] = answer.results as Array<{ rev?: number; error?: unknown }>
    expect(result?.error, JSON.stringify(answer)).toBeUndefined()
    // Acknowledged with a rev: then it is stored.
    const stored = await rawHttp(server.url, 'GET', `/v1/values/k${i}`, { token })
    expect([JSON.stringify(clientId), stored.status, stored.json]).toEqual([JSON.stringify(clientId), 200, i])
  }
  expect(socket.ws.readyState).toBe(socket.ws.OPEN)
})
