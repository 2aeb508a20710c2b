import type { Cubby } from '@cubby/client'
import { connectTestClient, rawHttp, startRedisDeployment, type CliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

const WRITES = 120
const wait = { timeout: 30_000, interval: 50 }

/** Keys of `client` whose writes the server acknowledged (each key is written once, so a settled key is an ack). */
function recordAcks(client: Cubby): { acked: Set<string>; errors: string[] } {
  const acked = new Set<string>()
  const errors: string[] = []
  client.addEventListener('pending', (e) => {
    for (const key of e.detail.keys) if (!client.isPending(key)) acked.add(key)
  })
  // A rejected write also settles (rolled back): each error is kept, to tell those from the session the node ends
  // with INTERNAL while it cannot reach Redis (the client reconnects and sends its outbox again).
  client.addEventListener('error', (e) => void errors.push(`${e.detail.error.code} ${e.detail.error.message}`))
  return { acked, errors }
}

const alive = (node: CliServer): boolean => {
  try {
    process.kill(node.pid, 0)
    return true
  } catch {
    return false
  }
}

it('loses no acknowledged write when redis-server (AOF always) is killed -9 under two nodes, and applies none twice', { timeout: 120_000 }, async () => {
  await using deployment = await startRedisDeployment()
  const { redis } = deployment
  const [a, b] = deployment.nodes
  const pids = [a.pid, b.pid]
  const token = deployment.token('erin')
  await using onA = connectTestClient(a.url, { auth: token })
  await using onB = connectTestClient(b.url, { auth: token })
  await Promise.all([onA.synced(), onB.synced()])
  const writers = [{ client: onA, name: 'a', ...recordAcks(onA) }, { client: onB, name: 'b', ...recordAcks(onB) }]

  // Both devices write unique keys; Redis dies with SIGKILL a third of the way in and comes back two thirds in,
  // on the same port and append-only file. Writes in between wait in the outboxes.
  let ackedAtKill = 0
  for (let i = 0; i < WRITES; i++) {
    await Promise.all(writers.map((w) => w.client.store(`${w.name}${i}`, i)))
    if (i === WRITES / 3) {
      await vi.waitFor(() => expect(writers.every((w) => w.acked.size >= 20)).toBe(true), wait)
      await redis.kill9()
      ackedAtKill = writers[0]!.acked.size + writers[1]!.acked.size
    }
    if (i === (2 * WRITES) / 3) await redis.restart()
  }
  expect(ackedAtKill).toBeGreaterThan(40)

  // The nodes reconnect by themselves and the outboxes flush.
  await vi.waitFor(() => expect([onA.pendingCount, onB.pendingCount]).toEqual([0, 0]), wait)
  await Promise.all([onA.synced(), onB.synced()])
  for (const w of writers) expect(w.acked.size).toBe(WRITES)
  // Every write is there, over HTTP on both nodes and on the device of the other node.
  for (const node of [a, b]) {
    const listed = await rawHttp(node.url, 'GET', `/v1/values?limit=${4 * WRITES}`, { token })
    expect((listed.json as { keys: string[] }).keys.length).toBe(2 * WRITES)
  }
  for (const w of writers) {
    for (let i = 0; i < WRITES; i++) {
      const got = await rawHttp(w.name === 'a' ? b.url : a.url, 'GET', `/v1/values/${w.name}${i}`, { token })
      expect(got.json, `${w.name}${i}`).toBe(i)
    }
  }
  await vi.waitFor(async () => {
    expect((await onA.list()).length).toBe(2 * WRITES)
    expect((await onB.list()).length).toBe(2 * WRITES)
  }, wait)
  // No write was rejected: the only errors are the sessions ended while Redis was away.
  for (const w of writers) for (const error of w.errors) expect(error).toMatch(/^INTERNAL The server cannot reach its storage/)
  // Each write took exactly one revision: a write re-sent after a lost ack was recognised, not applied again.
  const meta = `cubby:{${Buffer.from('erin').toString('hex')}}:m`
  expect(Number((await redis.cli('HGET', meta, 'h')).trim())).toBe(2 * WRITES)
  // The nodes never went down: same processes, nothing unhandled in their output.
  expect([a.pid, b.pid]).toEqual(pids)
  expect([alive(a), alive(b)]).toEqual([true, true])
  // (The outage is logged as `redis error:` lines, rate-limited: see createRedisErrorLog's test.)
  for (const node of [a, b]) expect(node.output()).not.toMatch(/Unhandled error event|uncaught|UnhandledPromiseRejection/i)
})
