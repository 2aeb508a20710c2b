import { connectTestClient, startCliServer, startTcpForwarder } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

const N = 40
const VALUE = 'x'.repeat(100_000)

/** How many of the batch's keys the server holds now (read over HTTP, straight from the server). */
async function stored(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/v1/values?prefix=big/&limit=1000`, { headers: { authorization: `Bearer ${token}` } })
  return ((await res.json()) as { keys: string[] }).keys.length
}

it('applies an atomic batch sent over several frames all or none when the connection is cut in the middle, then exactly once', async () => {
  await using server = await startCliServer()
  await using forwarder = await startTcpForwarder(server.port)
  const token = server.token('cut')
  await using client = connectTestClient(`http://127.0.0.1:${forwarder.port}`, { auth: token })
  await client.store('before', 1)
  await client.synced()
  const seen: number[] = []
  let watching = true
  const watcher = (async () => {
    for (let i = 0; watching && i < 2000; i++) seen.push(await stored(server.url, token))
  })()

  const start = forwarder.bytesFromClients
  const write = client.batch((tx) => {
    for (let i = 0; i < N; i++) tx.store(`big/${i}`, VALUE)
  })
  await write
  // Cut once more than half of the batch's ~4 MB has reached the proxy: the frames are in flight.
  for (let i = 0; i < 100_000 && forwarder.bytesFromClients - start < (N * VALUE.length) / 2; i++) await new Promise(setImmediate)
  const cutAt = forwarder.bytesFromClients - start
  forwarder.cutAll()
  expect(cutAt).toBeLessThan(N * VALUE.length)

  await write.settled
  await client.store('probe', 1)
  await client.synced()
  watching = false
  await watcher
  seen.push(await stored(server.url, token))
  expect(seen.every((n) => n === 0 || n === N)).toBe(true)
  expect(seen.at(-1)).toBe(N)
  // Exactly once: 'before' took rev 1, the batch N revs, 'probe' the next one.
  const probe = await fetch(`${server.url}/v1/values/probe`, { headers: { authorization: `Bearer ${token}` } })
  expect(probe.headers.get('x-cubby-rev')).toBe(String(N + 2))
  await vi.waitFor(async () => expect(await client.get('big/7')).toBe(VALUE))
})

it('sends an atomic batch again whole after a reload in the middle of sending it, and applies it once', async () => {
  await using server = await startCliServer()
  await using forwarder = await startTcpForwarder(server.port)
  const token = server.token('reload-batch')
  const name = 'reload-batch-device'
  {
    await using page = connectTestClient(`http://127.0.0.1:${forwarder.port}`, { auth: token, name })
    await page.ready()
    await page.synced()
    const start = forwarder.bytesFromClients
    await page.batch((tx) => {
      for (let i = 0; i < N; i++) tx.store(`big/${i}`, VALUE)
    })
    for (let i = 0; i < 100_000 && forwarder.bytesFromClients - start < (N * VALUE.length) / 2; i++) await new Promise(setImmediate)
    expect(forwarder.bytesFromClients - start).toBeLessThan(N * VALUE.length)
    // The page goes away mid-send: its socket is cut, then it closes.
    forwarder.cutAll()
    await forwarder.close()
  }
  expect([0, N]).toContain(await stored(server.url, token))
  await using reloaded = connectTestClient(server.url, { auth: token, name })
  await reloaded.ready()
  await reloaded.synced()
  expect(await stored(server.url, token)).toBe(N)
  await reloaded.store('probe', 1)
  await reloaded.synced()
  const probe = await fetch(`${server.url}/v1/values/probe`, { headers: { authorization: `Bearer ${token}` } })
  expect(probe.headers.get('x-cubby-rev')).toBe(String(N + 1))
})
