import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { connectTestClient, openRawSocket, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

const listAll = async (url: string, token: string): Promise<Array<{ key: string; value: unknown }>> => {
  const entries: Array<{ key: string; value: unknown }> = []
  let after: string | null = ''
  while (after !== null) {
    const res = await fetch(`${url}/v1/values?values=1&limit=1000&after=${encodeURIComponent(after)}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    const page = (await res.json()) as { entries: Array<{ key: string; value: unknown }>; next: string | null }
    entries.push(...page.entries)
    after = page.next
  }
  return entries
}

describe('durability', () => {
  it('keeps data across a graceful restart', async () => {
    await using server = await startCliServer()
    const token = server.token('hana')
    {
      await using client = connectTestClient(server.url, { auth: token })
      await client.store('kept', { when: new Date(0) })
      await client.synced()
    }
    expect(await server.stop()).toBe(0)
    await server.start()
    await using cold = connectTestClient(server.url, { auth: token })
    await cold.ready()
    expect(await cold.get('kept')).toEqual({ when: new Date(0) })
  })

  it('loses no acknowledged write when the server is killed with SIGKILL right after the acks', async () => {
    await using server = await startCliServer()
    const token = server.token('ivan')
    const client = connectTestClient(server.url, { auth: token })
    await client.ready()
    const writes = Array.from({ length: 300 }, (_, i) => client.store(`k${String(i).padStart(3, '0')}`, { i, pad: 'x'.repeat(100) }))
    await Promise.all(writes)
    await client.synced()
    await server.kill9()
    await client.close()

    await server.start()
    const entries = await listAll(server.url, token)
    expect(entries).toHaveLength(300)
    expect(entries[299]).toMatchObject({ key: 'k299', value: { i: 299 } })
  })

  it('applies each raw ack before the kill: every acknowledged mutation survives kill -9', async () => {
    await using server = await startCliServer()
    const token = server.token('jon')
    const raw = await openRawSocket(server.url)
    raw.hello(token)
    await raw.next('synced')
    for (let mid = 1; mid <= 50; mid++) {
      raw.send({ type: 'push', clientId: 'raw-1', mutations: [{ op: 'store', mid, key: `m${mid}`, value: String(mid) }] })
    }
    await raw.next('ack', (f) => (f.results as Array<{ mid: number }>).some((r) => r.mid === 50))
    const acked = raw.frames.filter((f) => f.type === 'ack').flatMap((f) => f.results as Array<{ mid: number }>)
    await server.kill9()
    await raw[Symbol.asyncDispose]()
    await server.start()
    const keys = (await listAll(server.url, token)).map((e) => e.key)
    for (const { mid } of acked) expect(keys).toContain(`m${mid}`)
    expect(acked).toHaveLength(50)
  })
})

describe('exactly once', () => {
  it('applies a push retried after a lost ack only once', async () => {
    await using server = await startCliServer()
    const token = server.token('kim')
    const push = { type: 'push', clientId: 'device-1', mutations: [{ op: 'store', mid: 1, key: 'count', value: '1' }] }
    await using first = await openRawSocket(server.url)
    first.hello(token)
    await first.next('synced')
    first.send(push)
    const ack = await first.next('ack')
    expect(ack.results).toEqual([{ mid: 1, rev: 1 }])
    await first[Symbol.asyncDispose]()

    // The client never saw that ack (connection lost) and retries on a new connection, with a newer value
    // under the same mid to prove that the retry is recognised and not applied.
    await using second = await openRawSocket(server.url)
    second.hello(token, 0)
    const welcome = await second.next('welcome')
    expect(welcome.head).toBe(1)
    await second.next('synced')
    second.send({ ...push, mutations: [{ op: 'store', mid: 1, key: 'count', value: '999' }] })
    const retryAck = await second.next('ack')
    expect(retryAck.results).toEqual([{ mid: 1, rev: 1 }])
    second.send({ type: 'push', clientId: 'device-1', mutations: [{ op: 'store', mid: 2, key: 'after', value: 'true' }] })
    expect((await second.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === 2)).results).toEqual([{ mid: 2, rev: 2 }])

    await using reader = connectTestClient(server.url, { auth: token })
    await reader.ready()
    expect(await reader.get('count')).toBe(1)
  })
})

describe('restored server', () => {
  it('makes a client whose cursor is ahead of the server start over, keeping its unacknowledged writes', async () => {
    await using server = await startCliServer()
    const token = server.token('lars')
    await using client = connectTestClient(server.url, { auth: token })
    await client.store('before-restore', 1)
    await client.synced()
    await server.stop()
    // The operator restores an empty (older) database; the client is still at revision 1.
    await rm(join(server.dataDir, 'db'), { recursive: true, force: true })
    await client.store('queued-while-down', 2)
    await server.start()

    await client.synced()
    await vi.waitFor(async () => expect(await client.list()).toEqual(['queued-while-down']))
    await using cold = connectTestClient(server.url, { auth: token })
    await cold.ready()
    expect(await cold.list()).toEqual(['queued-while-down'])
  })
})
