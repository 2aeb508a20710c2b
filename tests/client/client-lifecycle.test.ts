import { connectTestClient, startTestServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

describe('client lifecycle against the real server', () => {
  it('closes while the token function of the app has not answered yet, and rejects what waited on it', async () => {
    await using server = await startTestServer()
    let asked = 0
    const client = connectTestClient(server.url, { auth: () => (asked++, new Promise<string>(() => {})) })
    const write = client.store('k', 1)
    await vi.waitFor(() => expect(asked).toBe(1))
    await client.close()
    await expect(write).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(client.ready()).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('goes connecting, online, offline while the server is down, and online again', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(server.url, { auth: server.token('ruth') })
    const statuses: string[] = []
    client.addEventListener('status', (e) => statuses.push(e.detail.status))
    expect(client.status).toBe('connecting')
    await client.ready()
    expect(client.status).toBe('online')
    await server.cubby.close()
    await vi.waitFor(() => expect(client.status).toBe('offline'))
    await server.restart()
    await vi.waitFor(() => expect(client.status).toBe('online'))
    expect(statuses.slice(0, 3)).toEqual(['connecting', 'online', 'offline'])
    expect(statuses.at(-1)).toBe('online')
  })

  it('resolves ready only once a cold client holds every key, fetched in several batches', async () => {
    await using server = await startTestServer({ pullBatchSize: 100 })
    const token = server.token('sam')
    {
      await using writer = connectTestClient(server.url, { auth: token })
      await writer.storeMany(Array.from({ length: 1500 }, (_, i) => [`item/${String(i).padStart(4, '0')}`, i] as [string, number]))
      await writer.synced()
    }
    await using cold = connectTestClient(server.url, { auth: token })
    let changeEvents = 0
    cold.addEventListener('change', () => void changeEvents++)
    await cold.ready()
    expect(await cold.list()).toHaveLength(1500)
    expect(await cold.get('item/1499')).toBe(1499)
    expect(changeEvents).toBeGreaterThan(1)
  })

  it('pipelines a large offline outbox and settles it', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(server.url, { auth: server.token('tess'), connect: false })
    await Promise.all(Array.from({ length: 2500 }, (_, i) => client.store(`k${i}`, { i })))
    expect(client.pendingCount).toBe(2500)
    client.connect()
    await client.synced()
    expect(client.pendingCount).toBe(0)
    expect(await server.cubby.list('tess')).toHaveLength(2500)
  })
})
