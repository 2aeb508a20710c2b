import { createMemoryCache, type Cubby } from '@cubby/client'
import { connectTestClient, rawHttp, startCliServer, type CliServer } from '@cubby/test-utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

/**
 * Property: random mixes of plain and expiring writes and deletes from three devices, with random disconnects,
 * converge: once every device is back online and every moment has passed, each device holds exactly what the
 * server holds, with no expired key anywhere. Against the real server process.
 */

type Command =
  | { device: number; op: 'store'; key: string; value: number; ttl?: number }
  | { device: number; op: 'delete'; key: string }
  | { device: number; op: 'disconnect' | 'connect' }

const KEYS = ['a', 'b', 'c', 'd']
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ device: fc.nat(2), op: fc.constant('store' as const), key: fc.constantFrom(...KEYS), value: fc.nat(1000) }),
  fc.record({ device: fc.nat(2), op: fc.constant('store' as const), key: fc.constantFrom(...KEYS), value: fc.nat(1000), ttl: fc.integer({ min: 50, max: 800 }) }),
  fc.record({ device: fc.nat(2), op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({ device: fc.nat(2), op: fc.constantFrom('disconnect' as const, 'connect' as const) }),
)

let server: CliServer
beforeAll(async () => {
  server = await startCliServer()
})
afterAll(async () => {
  await server?.stop()
})

let users = 0

async function serverEntries(token: string): Promise<Array<[string, unknown]>> {
  const answer = await rawHttp(server.url, 'GET', '/v1/values?values=1', { token })
  return (answer.json as { entries: Array<{ key: string; value: unknown }> }).entries.map((e) => [e.key, e.value])
}

describe('expiry convergence', () => {
  it('brings every device to the server\'s state after random expiring writes and disconnects', async () => {
    await fc.assert(fc.asyncProperty(fc.array(commandArb, { minLength: 5, maxLength: 30 }), async (commands) => {
      const token = server.token(`prop-${++users}`)
      const devices: Cubby[] = [0, 1, 2].map(() => connectTestClient(server.url, { auth: token, cache: createMemoryCache() }))
      try {
        await Promise.all(devices.map((d) => d.ready()))
        let lastMoment = Date.now()
        for (const c of commands) {
          const device = devices[c.device]!
          switch (c.op) {
            case 'disconnect':
              device.disconnect()
              break
            case 'connect':
              device.connect()
              break
            case 'delete':
              await device.delete(c.key)
              break
            case 'store':
              if (c.ttl === undefined) await device.store(c.key, c.value)
              else {
                await device.store(c.key, c.value, { ttl: c.ttl })
                lastMoment = Math.max(lastMoment, Date.now() + c.ttl)
              }
          }
        }
        for (const d of devices) d.connect()
        await Promise.all(devices.map((d) => d.synced()))
        // Every moment passed, and the server's sweep (within a second of it) done: all agree, nothing expired shows.
        await vi.waitFor(async () => {
          expect(Date.now()).toBeGreaterThan(lastMoment)
          const truth = await serverEntries(token)
          for (const d of devices) expect(await d.entries()).toEqual(truth)
        }, { timeout: lastMoment - Date.now() + 5000, interval: 50 })
      } finally {
        await Promise.all(devices.map((d) => d.close()))
      }
    }), { numRuns: 8 })
  })
})
