import { isCubbyErrorCode } from '@cubby/protocol'
import { connectTestClient, openRawSocket, startCliServer, type CliServer } from '@cubby/test-utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { forgedTokens, memoryOf, rawHttp } from './attack.js'
import { firstFrameArb, frameArb, httpRequestArb, rawRequestArb } from './fuzzArbitraries.js'
import { exchange, parseAnswer } from './rawTcp.js'
import { FUZZ_SEEDS } from './regressions/fuzzSeeds.js'

/**
 * Property-based fuzzing of a live cubby-server: over 10,000 random and mutated frames and HTTP requests. The
 * server never crashes or hangs, answers every bad frame or request with a typed error (and never INTERNAL),
 * keeps other users' sessions going, and keeps its memory bounded.
 *
 * A failure prints fast-check's seed and path; add them to regressions/fuzzSeeds.ts so the case is replayed
 * on every run from then on.
 */

const MIB = 1024 * 1024
/** How many frames or requests a property sent; each test counts its own, so none depends on another having run. */
type Sent = { count: number }
let server: CliServer
let baseline: number
let bystanders: { a: ReturnType<typeof connectTestClient>; b: ReturnType<typeof connectTestClient>; events: string[] }

/** Whether an error as the server sent it is typed: a known code that is not INTERNAL, and a message. */
const typed = (e: unknown): boolean => {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown }
  return isCubbyErrorCode(code) && code !== 'INTERNAL' && typeof message === 'string'
}

beforeAll(async () => {
  // Rate limits out of the way (the fuzzer is one fast client); small frames keep runs quick.
  server = await startCliServer({ args: [
    '--max-message-bytes', String(256 * 1024), '--rate-per-connection', '1000000', '--burst-per-connection', '1000000',
    '--rate-per-address', '1000000', '--burst-per-address', '1000000', '--trust-proxy',
  ] })
  const events: string[] = []
  const a = connectTestClient(server.url, { auth: server.token('bystander') })
  const b = connectTestClient(server.url, { auth: server.token('bystander') })
  for (const c of [a, b]) {
    c.addEventListener('error', (e) => events.push(`error ${e.detail.error.code}`))
    c.addEventListener('status', (e) => events.push(e.detail.status))
  }
  await Promise.all([a.ready(), b.ready()])
  await a.store('before', { kept: new Map([[1, 'one']]) })
  await vi.waitFor(async () => expect(await b.get('before')).toEqual({ kept: new Map([[1, 'one']]) }), { timeout: 10_000 })
  events.length = 0
  bystanders = { a, b, events }
  baseline = memoryOf(server.pid).rss
})

afterAll(async () => {
  await bystanders?.a.close()
  await bystanders?.b.close()
  await server?.[Symbol.asyncDispose]()
})

/** One WebSocket session of the fuzz user: random frames, then a sentinel push whose ack proves all were handled. */
const framesProperty = (token: string, sent: Sent): fc.IAsyncPropertyWithHooks<[Array<string | Uint8Array | object>]> =>
  fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 60, size: 'max' }), async (frames) => {
    await using socket = await openRawSocket(server.url)
    socket.hello(token)
    await socket.next('synced')
    for (const frame of frames) socket.send(frame instanceof Uint8Array ? Buffer.from(frame) : frame)
    const mid = Date.now() * 1000 + Math.floor(Math.random() * 1000)
    socket.send({ type: 'push', clientId: 'fuzz-sentinel', mutations: [{ op: 'store', mid, key: 'sentinel', value: String(mid) }] })
    await socket.next('ack', (f) => f.clientId === 'fuzz-sentinel')
    sent.count += frames.length + 1
    // Exactly one answer per frame: an ack for each push, a typed error for everything else.
    const answers = socket.frames.filter((f) => f.type === 'error' || f.type === 'ack')
    expect(answers).toHaveLength(frames.length + 1)
    for (const f of socket.frames) {
      if (f.type === 'error') expect(typed(f), JSON.stringify(f)).toBe(true)
      if (f.type === 'ack') for (const r of f.results as Array<{ error?: unknown }>) if (r.error !== undefined) expect(typed(r.error), JSON.stringify(r)).toBe(true)
    }
    expect(socket.ws.readyState).toBe(socket.ws.OPEN)
  })

/** A first frame: a good hello gets a welcome; anything else a typed error and an application close code. */
const firstFrameProperty = (token: string, sent: Sent): fc.IAsyncPropertyWithHooks<[string | Uint8Array | object]> =>
  fc.asyncProperty(firstFrameArb(token), async (frame) => {
    await using socket = await openRawSocket(server.url)
    socket.send(frame instanceof Uint8Array ? Buffer.from(frame) : frame)
    sent.count++
    const outcome = await Promise.race([socket.next('welcome').then(() => 'welcome'), socket.closed])
    if (outcome === 'welcome') return
    expect([4001, 4002, 4003]).toContain(outcome)
    expect(socket.frames).toHaveLength(1)
    expect(typed(socket.frames[0])).toBe(true)
  })

/** A batch of HTTP requests: no 5xx, and every refusal under /v1 is a typed JSON error. */
type FuzzRequest = { method: string; path: string; headers: Record<string, string>; body: string | undefined }
const requestsProperty = (tokens: { valid: string; forged: string }, sent: Sent): fc.IAsyncPropertyWithHooks<[FuzzRequest[]]> =>
  fc.asyncProperty(fc.array(httpRequestArb(tokens), { minLength: 1, maxLength: 30, size: 'max' }), async (requests) => {
    for (const { method, path, headers, body } of requests) {
      const res = await rawHttp(server.url, method, path, { headers, fresh: true, ...(body === undefined ? {} : { body }) })
      sent.count++
      expect(res.status, `${method} ${path} → ${res.text.slice(0, 200)}`).toBeLessThan(500)
      if (res.status >= 400 && method !== 'HEAD' && path.startsWith('/v1')) expect(typed((res.json as { error?: unknown } | undefined)?.error), `${method} ${path} ${JSON.stringify({ headers, body })} → ${res.status} ${res.text.slice(0, 200)}`).toBe(true)
    }
  })

/**
 * Raw HTTP requests over TCP, upgrades among them, with hostile request-targets and headers: each gets exactly
 * one well-formed answer that is not a server error, and the process keeps serving.
 */
const rawRequestsProperty = (token: string, sent: Sent): fc.IAsyncPropertyWithHooks<[Array<{ upgrade: boolean; text: string }>]> =>
  fc.asyncProperty(fc.array(rawRequestArb(token), { minLength: 1, maxLength: 8 }), async (requests) => {
    for (const { text } of requests) {
      const raw = await exchange(server.port, text)
      sent.count++
      const answer = parseAnswer(raw)
      expect(answer, `${JSON.stringify(text)} → ${JSON.stringify(raw.slice(0, 300))}`).toBeDefined()
      expect(answer!.status, `${JSON.stringify(text)} → ${JSON.stringify(raw.slice(0, 300))}`).toBeLessThan(500)
      if (answer!.status !== 101) expect(answer!.rest, JSON.stringify(text)).toBe('')
    }
    expect((await rawHttp(server.url, 'GET', '/healthz', { fresh: true })).status).toBe(200)
  })

/**
 * After each test: the server lives and logged no error, the bystanders' sessions carried on (a new value still
 * syncs, the old one is intact, no error or status event) and memory stayed bounded.
 */
async function expectUnharmed(round: string): Promise<void> {
  expect((await rawHttp(server.url, 'GET', '/healthz', { fresh: true })).status).toBe(200)
  expect(server.output()).not.toMatch(/\[cubby\] error/)
  const { a, b, events } = bystanders
  await a.store('after', round)
  await vi.waitFor(async () => expect(await b.get('after')).toBe(round), { timeout: 10_000 })
  expect(await b.get('before')).toEqual({ kept: new Map([[1, 'one']]) })
  expect(events).toEqual([])
  const { rss, peak } = memoryOf(server.pid)
  expect(rss - baseline).toBeLessThan(200 * MIB)
  expect(peak - baseline).toBeLessThan(300 * MIB)
}

// Each test checks its own share of the traffic; the shares add up to over 10,000 frames and requests.
describe('fuzzing a live server', () => {
  it('replays the seeds of past failures', async () => {
    expect(FUZZ_SEEDS.length).toBeGreaterThan(0)
    const token = server.token('fuzz')
    const tokens = { valid: token, forged: forgedTokens(server, 'fuzz')['tampered sub']! }
    const sent = { count: 0 }
    const properties = { frames: framesProperty(token, sent), first: firstFrameProperty(token, sent), requests: requestsProperty(tokens, sent), raw: rawRequestsProperty(token, sent) }
    for (const { property, seed, path } of FUZZ_SEEDS) await fc.assert(properties[property] as fc.IAsyncProperty<unknown[]>, { seed, path, numRuns: 1, endOnFailure: true })
    expect(sent.count).toBeGreaterThanOrEqual(FUZZ_SEEDS.length)
    await expectUnharmed('seeds')
  })

  it('answers random and mutated frames with typed errors, one per frame, and never drops the session', async () => {
    const sent = { count: 0 }
    await fc.assert(framesProperty(server.token('fuzz'), sent), { numRuns: 250, endOnFailure: true })
    // 250 sessions of 1 to 60 frames and a sentinel each: about 7,900 frames.
    expect(sent.count).toBeGreaterThanOrEqual(5_000)
    await expectUnharmed('frames')
  })

  it('answers random first frames with a welcome or a typed error and a close code', async () => {
    const sent = { count: 0 }
    await fc.assert(firstFrameProperty(server.token('fuzz'), sent), { numRuns: 600, endOnFailure: true })
    expect(sent.count).toBe(600)
    await expectUnharmed('first frames')
  })

  it('answers random HTTP requests without a server error, every refusal typed', async () => {
    const tokens = { valid: server.token('fuzz'), forged: forgedTokens(server, 'fuzz')['tampered sub']! }
    const sent = { count: 0 }
    await fc.assert(requestsProperty(tokens, sent), { numRuns: 300, endOnFailure: true })
    // 300 batches of 1 to 30 requests: about 4,600.
    expect(sent.count).toBeGreaterThanOrEqual(3_000)
    await expectUnharmed('requests')
    // Thousands of requests, each on a fresh connection: on a loaded machine that takes longer than the default.
  }, 120_000)

  it('answers raw requests and upgrades with hostile targets and headers once each, and keeps serving', async () => {
    const sent = { count: 0 }
    await fc.assert(rawRequestsProperty(server.token('fuzz'), sent), { numRuns: 500, endOnFailure: true })
    // 500 batches of 1 to 8 requests: about 2,250.
    expect(sent.count).toBeGreaterThanOrEqual(1_500)
    await expectUnharmed('raw requests')
  }, 120_000)
})
