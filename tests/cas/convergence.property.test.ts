import type { Cubby } from '@cubby/client'
import { encodeValue, type Change } from '@cubby/protocol'
import { connectTestClient, connectUser, startTestServer } from '@cubby/test-utils'
import fc from 'fast-check'
import { expect, it, vi } from 'vitest'

type Schema = Record<string, unknown>
const KEYS = ['a', 'b', 'c'] as const

/** One step of a device: a plain, conditional, batched or update write, a disconnect/connect, or a short pause. */
type Step =
  | { device: number; kind: 'store'; key: string; cond: 'none' | 'current' | 'stale' | 'absent' }
  | { device: number; kind: 'delete'; key: string; cond: 'none' | 'current' }
  | { device: number; kind: 'batch'; keys: [string, string]; cond: 'current' | 'stale' }
  | { device: number; kind: 'update' }
  | { device: number; kind: 'toggle' }
  | { device: number; kind: 'pause' }

const device = fc.integer({ min: 0, max: 2 })
const key = fc.constantFrom(...KEYS)
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ device, kind: fc.constant('store' as const), key, cond: fc.constantFrom('none' as const, 'current' as const, 'stale' as const, 'absent' as const) }),
  fc.record({ device, kind: fc.constant('delete' as const), key, cond: fc.constantFrom('none' as const, 'current' as const) }),
  fc.record({ device, kind: fc.constant('batch' as const), keys: fc.tuple(key, key).filter(([x, y]) => x !== y), cond: fc.constantFrom('current' as const, 'stale' as const) }),
  fc.record({ device, kind: fc.constant('update' as const) }),
  fc.record({ device, kind: fc.constant('toggle' as const) }),
  fc.record({ device, kind: fc.constant('pause' as const) }),
)

/** A conditional store (alone or in a batch) and what the server said. */
interface Verdict {
  key: string
  /** Unique, so that the server's history shows whether and where it was applied. */
  value: string
  /** The version it was conditioned on; 0 for absent. */
  version: number
  batch?: number
  accepted?: boolean
}

let run = 0

it('converges every device to the server\'s state, with every conditional verdict consistent with the server\'s order', async () => {
  await using server = await startTestServer()
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 60, size: 'max' }), async (steps) => {
    const userId = `prop-${++run}`
    const token = server.token(userId)
    // Sees every change live, in order, from the first (nothing is overwritten for a session that keeps up).
    await using observer = await connectUser(server, userId)
    const devices: Array<Cubby<Schema>> = [0, 1, 2].map(() => connectTestClient<Schema>(server.url, { auth: token, cache: 'memory' }))
    try {
      await Promise.all(devices.map((d) => d.synced()))
      const verdicts: Verdict[] = []
      const updates: Array<Promise<boolean>> = []
      const settled: Array<Promise<unknown>> = []
      let unique = 0
      let batches = 0
      const track = (v: Verdict, promise: Promise<void>): void => {
        verdicts.push(v)
        settled.push(promise.then(() => (v.accepted = true), () => (v.accepted = false)))
      }
      for (const s of steps) {
        const d = devices[s.device]!
        if (s.kind === 'pause') {
          // Lets frames go and verdicts come between writes (a few milliseconds, or until this device is synced).
          await Promise.race([d.synced(), new Promise((resolve) => setTimeout(resolve, 3))])
          continue
        }
        if (s.kind === 'toggle') {
          if (d.status === 'offline') d.connect()
          else d.disconnect()
          continue
        }
        if (s.kind === 'update') {
          updates.push(d.update('n', (n) => (typeof n === 'number' ? n : 0) + 1, { retries: 1000 }).settled.then(() => true, () => false))
          continue
        }
        if (s.kind === 'batch') {
          const id = ++batches
          const parts = s.keys.map((k) => ({ key: k, value: `v${++unique}`, version: d.getEntrySnapshot(k).version + (s.cond === 'stale' ? 1 : 0) }))
          const write = d.batch((tx) => {
            for (const p of parts) tx.store(p.key, p.value, { ifVersion: p.version })
          })
          for (const p of parts) track({ ...p, batch: id }, write.settled)
          continue
        }
        const version = d.getEntrySnapshot(s.key).version
        if (s.kind === 'delete') {
          if (s.cond === 'none') void d.delete(s.key)
          else settled.push(d.delete(s.key, { ifVersion: version }).settled.catch(() => {}))
          continue
        }
        const value = `v${++unique}`
        if (s.cond === 'none') void d.store(s.key, value)
        else {
          const v = s.cond === 'absent' ? 0 : version + (s.cond === 'stale' ? 1 : 0)
          track({ key: s.key, value, version: v }, d.store(s.key, value, { ifVersion: v }).settled)
        }
      }
      for (const d of devices) d.connect()
      await Promise.all(settled)
      const counted = (await Promise.all(updates)).filter(Boolean).length
      await Promise.all(devices.map((d) => d.synced()))

      // The server's state, and every device's, are the same.
      const head = await (async () => {
        const probe = await connectUser(server, userId)
        const rev = probe.frames.find((f) => f.type === 'welcome')
        await probe[Symbol.asyncDispose]()
        return rev?.type === 'welcome' ? rev.head : 0
      })()
      const history: Change[] = []
      if (head > 0) {
        await observer.next('changes', () => {
          history.length = 0
          for (const f of observer.frames) if (f.type === 'changes') history.push(...f.changes)
          return history.at(-1)?.rev === head
        })
      }
      expect(history.map((c) => c.rev)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
      const state = new Map<string, string>()
      for (const c of history) {
        if ('value' in c) state.set(c.key, c.value)
        else if ('key' in c) state.delete(c.key)
      }
      for (const d of devices) {
        await vi.waitFor(async () => {
          const entries = await d.entries()
          expect(new Map(entries.map(([k, v]) => [k, encodeValue(v)]))).toEqual(state)
        })
      }
      expect(state.has('n') ? Number(JSON.parse(state.get('n')!)) : 0).toBe(counted)

      // Each accepted conditional store was applied on top of the version it named; a rejected one never was.
      for (const v of verdicts) {
        const at = history.findIndex((c) => 'value' in c && c.value === encodeValue(v.value))
        if (v.accepted !== true) {
          expect(at).toBe(-1)
          continue
        }
        expect(at).not.toBe(-1)
        const before = history.slice(0, at).reverse().find((c) => 'key' in c && c.key === v.key)
        const version = before === undefined || 'deleted' in before ? 0 : before.rev
        // In a batch, the key's earlier change may be the batch's own (no: keys of a batch differ), so it is the base.
        expect(version).toBe(v.version)
      }
      // A batch is all or none.
      for (let id = 1; id <= batches; id++) {
        const parts = verdicts.filter((v) => v.batch === id)
        expect(new Set(parts.map((p) => p.accepted)).size).toBe(1)
      }
    } finally {
      await Promise.all(devices.map((d) => d.close()))
    }
  }), { numRuns: 25 })
}, 240_000)
