import { randomBytes } from 'node:crypto'
import { encodeValue } from '@cubby/protocol'
import { openRawSocket, rawHttp, signTestToken, startCliServer, type CliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'
import { parsePrometheusText, valueOf, type Sample } from './prometheusText.js'

const JSON_TYPE = { 'content-type': 'application/json' }
const adminToken = (): string => randomBytes(24).toString('base64url')

/** Starts a server with an admin credential and a metrics port; returns it with the metrics port's URL. */
async function start(args: string[] = [], env: Record<string, string> = {}): Promise<{ server: CliServer; admin: string; metricsUrl: string }> {
  const admin = adminToken()
  const server = await startCliServer({ args: ['--metrics-port', '0', ...args], env: { CUBBY_ADMIN_TOKEN: admin, ...env } })
  const metricsUrl = /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(server.output())?.[1]
  if (metricsUrl === undefined) throw new Error(`No metrics port in the output:\n${server.output()}`)
  return { server, admin, metricsUrl }
}

async function scrape(server: CliServer, admin: string): Promise<Sample[]> {
  const answer = await rawHttp(server.url, 'GET', '/metrics', { token: admin })
  expect(answer.status).toBe(200)
  return parsePrometheusText(answer.text)
}

const put = (server: CliServer, userId: string, key: string, value: unknown): ReturnType<typeof rawHttp> =>
  rawHttp(server.url, 'PUT', `/v1/values/${key}`, { token: server.token(userId), headers: JSON_TYPE, body: JSON.stringify(value) })

/** A raw sync socket of `userId`, welcomed, with the welcome's head. */
async function session(server: CliServer, userId: string, cursor = 0): Promise<Awaited<ReturnType<typeof openRawSocket>> & { head: number }> {
  const socket = await openRawSocket(server.url)
  socket.hello(server.token(userId), cursor)
  const welcome = await socket.next('welcome')
  return Object.assign(socket, { head: welcome.head })
}

/** What each sample of a family moved by between two scrapes (only those that moved). */
function moved(before: readonly Sample[], after: readonly Sample[], name: string): Record<string, number> {
  const result: Record<string, number> = {}
  for (const s of after.filter((x) => x.name === name)) {
    const delta = s.value - valueOf(before, name, s.labels)
    if (delta !== 0) result[Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')] = delta
  }
  return result
}

it('serves /metrics with the admin credential only, and without one on the metrics port (loopback), as strict Prometheus text', async () => {
  const { server, admin, metricsUrl } = await start()
  await using _server = server
  expect((await rawHttp(server.url, 'GET', '/metrics')).status).toBe(401)
  expect((await rawHttp(server.url, 'GET', '/metrics', { token: `${admin}x` })).status).toBe(401)
  expect((await rawHttp(server.url, 'GET', '/metrics', { token: server.token('metrics-user-1f9c') })).status).toBe(401)
  const main = await rawHttp(server.url, 'GET', '/metrics', { token: admin })
  expect(main.status).toBe(200)
  expect(main.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  const open = await rawHttp(metricsUrl, 'GET', '/metrics')
  expect(open.status).toBe(200)
  expect((await rawHttp(metricsUrl, 'GET', '/v1/values', { token: server.token('metrics-user-1f9c') })).status).toBe(404)
  for (const text of [main.text, open.text]) {
    const samples = parsePrometheusText(text)
    expect(samples.every((s) => s.name.startsWith('cubby_'))).toBe(true)
    const names = new Set(samples.map((s) => s.name))
    for (const name of ['cubby_process_resident_memory_bytes', 'cubby_nodejs_eventloop_lag_seconds', 'cubby_tcp_connections', 'cubby_sync_sockets',
      'cubby_sessions', 'cubby_catchups_total', 'cubby_storage_errors_total']) expect(names).toContain(name)
    expect(text).not.toContain('metrics-user-1f9c')
    expect(text).not.toContain(admin)
  }
  expect(valueOf(parsePrometheusText(open.text), 'cubby_refusals_total', { code: 'UNAUTHORIZED', kind: 'admin' })).toBe(3)
})

it('counts commits (with their latency), mutations by result, fan-out and catch-ups by exactly what happened', async () => {
  const { server, admin } = await start()
  await using _server = server
  const before = await scrape(server, admin)
  await using listener = await session(server, 'fan-user-8d2e')
  for (const key of ['a', 'b', 'c']) expect((await put(server, 'fan-user-8d2e', key, key)).status).toBe(200)
  listener.send({ type: 'push', clientId: 'c1', mutations: [
    { op: 'store', mid: 1, key: 'p1', value: encodeValue(1) },
    { op: 'store', mid: 2, key: 'p2', value: encodeValue(2) },
    { op: 'store', mid: 3, key: '', value: encodeValue(3) },
  ] })
  const ack = await listener.next('ack')
  expect(ack.results).toMatchObject([{ rev: 4 }, { rev: 5 }, { error: { code: 'INVALID_KEY' } }])
  // Catch-ups: from cursor 0 (a snapshot), from the log, and none for a client that is up to date.
  await using fromZero = await session(server, 'fan-user-8d2e', 0)
  await using fromLog = await session(server, 'fan-user-8d2e', 2)
  await using upToDate = await session(server, 'fan-user-8d2e', 5)
  expect([fromZero.head, fromLog.head, upToDate.head]).toEqual([5, 5, 5])
  const after = await scrape(server, admin)

  expect(moved(before, after, 'cubby_commit_duration_seconds_count')).toEqual({ 'result=ok': 4 })
  expect(moved(before, after, 'cubby_commit_duration_seconds_bucket')).toMatchObject({ 'le=+Inf,result=ok': 4 })
  expect(valueOf(after, 'cubby_commit_duration_seconds_sum', { result: 'ok' })).toBeGreaterThan(0)
  expect(moved(before, after, 'cubby_mutations_total')).toEqual({ 'result=ok': 5, 'result=INVALID_KEY': 1 })
  expect(moved(before, after, 'cubby_fanout_deliveries_total')).toEqual({ '': 4 })
  expect(moved(before, after, 'cubby_fanout_changes_total')).toEqual({ '': 5 })
  expect(moved(before, after, 'cubby_catchups_total')).toEqual({ 'reason=snapshot': 1, 'reason=log': 1 })
  expect(moved(before, after, 'cubby_storage_errors_total')).toEqual({})
  for (const s of after) expect(Object.values(s.labels).join()).not.toContain('fan-user')
})

it('counts refusals where they are decided, by code and kind, with no user in any label', async () => {
  const { server, admin } = await start(['--max-user-keys', '2', '--identity-burst', '1', '--max-connections-per-user', '1'])
  await using _server = server
  const before = await scrape(server, admin)
  const forged = signTestToken('not-the-secret', 'refused-user-3c7b')
  expect((await rawHttp(server.url, 'GET', '/v1/values')).status).toBe(401)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: forged })).status).toBe(401)
  {
    await using socket = await openRawSocket(server.url)
    socket.hello(forged)
    expect(await socket.closed).toBe(4001)
  }
  expect((await rawHttp(server.url, 'GET', '/v1/admin/users', { token: 'wrong' })).status).toBe(401)
  expect((await rawHttp(server.url, 'POST', '/v1/identities')).status).toBe(201)
  expect((await rawHttp(server.url, 'POST', '/v1/identities')).status).toBe(429)
  for (const key of ['a', 'b']) expect((await put(server, 'quota-user-3c7b', key, 1)).status).toBe(200)
  expect((await put(server, 'quota-user-3c7b', 'c', 1)).status).toBe(413)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('u'), headers: { origin: 'https://evil.example' } })).status).toBe(403)
  await using first = await session(server, 'capped-user-3c7b')
  {
    await using second = await openRawSocket(server.url)
    second.hello(server.token('capped-user-3c7b'))
    expect((await second.next('error')).code).toBe('RATE_LIMITED')
  }
  {
    await using big = await openRawSocket(server.url)
    big.send('x'.repeat(70 * 1024))
    expect(await big.closed).toBe(1009)
  }
  const after = await scrape(server, admin)
  expect(moved(before, after, 'cubby_refusals_total')).toEqual({
    'code=UNAUTHORIZED,kind=missing': 1,
    'code=UNAUTHORIZED,kind=invalid': 2,
    'code=UNAUTHORIZED,kind=admin': 1,
    'code=RATE_LIMITED,kind=identity': 1,
    'code=QUOTA_EXCEEDED,kind=mutation': 1,
    'code=FORBIDDEN,kind=origin': 1,
    'code=RATE_LIMITED,kind=user-connections': 1,
    'code=MESSAGE_TOO_LARGE,kind=hello': 1,
  })
  expect(moved(before, after, 'cubby_mutations_total')).toEqual({ 'result=ok': 2, 'result=QUOTA_EXCEEDED': 1 })
  const text = (await rawHttp(server.url, 'GET', '/metrics', { token: admin })).text
  for (const secret of ['3c7b', forged, admin]) expect(text).not.toContain(secret)
  expect(first.head).toBe(0)
})

it('reports open TCP connections, sync sockets and live sessions as gauges', async () => {
  const { server, admin } = await start()
  await using _server = server
  const gauges = async (): Promise<number[]> => {
    const s = await scrape(server, admin)
    return ['cubby_tcp_connections', 'cubby_sync_sockets', 'cubby_sessions'].map((name) => valueOf(s, name))
  }
  const [tcp0, sockets0, sessions0] = await gauges()
  expect([sockets0, sessions0]).toEqual([0, 0])
  const a = await session(server, 'gauge-user-a')
  const b = await session(server, 'gauge-user-b')
  const silent = await openRawSocket(server.url)
  const [tcp1, sockets1, sessions1] = await gauges()
  expect([tcp1! - tcp0!, sockets1, sessions1]).toEqual([3, 3, 2])
  for (const socket of [a, b, silent]) await socket[Symbol.asyncDispose]()
  await vi.waitFor(async () => expect(await gauges()).toEqual([tcp0, 0, 0]), { timeout: 10_000 })
})

it('logs JSON lines with --log-format json: refusals aggregated per reason with their count, no token anywhere', async () => {
  const { server } = await start(['--log-format', 'json'])
  await using _server = server
  const forged = signTestToken('not-the-secret', 'json-user-5a1e')
  for (let i = 0; i < 5; i++) {
    await using socket = await openRawSocket(server.url)
    socket.hello(forged)
    await socket.closed
  }
  for (let i = 0; i < 3; i++) await rawHttp(server.url, 'GET', '/v1/values', { token: forged })
  // Stopped first: the close writes the counts still pending.
  expect(await server.stop()).toBe(0)
  const lines = server.output().split('\n').filter((line) => line.startsWith('{'))
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  for (const entry of entries) {
    expect(typeof entry.time).toBe('string')
    expect(Number.isNaN(Date.parse(entry.time as string))).toBe(false)
    expect(['info', 'warn', 'error']).toContain(entry.level)
    expect(typeof entry.msg).toBe('string')
  }
  const refused = entries.filter((e) => e.event === 'refused' && e.reason === 'UNAUTHORIZED:invalid')
  // The first at once, the other seven (within the 10 s window) in one line with their count, written on close.
  expect(refused.map((e) => e.count)).toEqual([1, 7])
  expect(refused.every((e) => e.level === 'warn')).toBe(true)
  for (const s of [forged, forged.split('.')[2]!, server.secret, 'json-user-5a1e']) expect(server.output()).not.toContain(s)
})

it('counts connection caps and frame rate limits once per refused connection', async () => {
  const { server, metricsUrl } = await start(['--max-connections', '3', '--burst-per-connection', '5', '--rate-per-connection', '1'])
  await using _server = server
  // Scraped on the metrics port: it is neither capped nor rate limited with the main port.
  const scrapeOpen = async (): Promise<Sample[]> => parsePrometheusText((await rawHttp(metricsUrl, 'GET', '/metrics')).text)
  const before = await scrapeOpen()
  {
    await using flooder = await session(server, 'rate-user-9b1d')
    for (let i = 0; i < 20; i++) flooder.send({ type: 'ping' })
    expect(await flooder.closed).toBe(4029)
  }
  await vi.waitFor(async () => expect(valueOf(await scrapeOpen(), 'cubby_sync_sockets')).toBe(0))
  const held = await Promise.all([0, 1, 2].map(() => openRawSocket(server.url)))
  const refused = await rawHttp(server.url, 'GET', '/healthz', { fresh: true }).catch((error: unknown) => error)
  expect(refused).toMatchObject({ status: 503 })
  for (const socket of held) await socket[Symbol.asyncDispose]()
  const after = await scrapeOpen()
  expect(moved(before, after, 'cubby_refusals_total')).toEqual({ 'code=RATE_LIMITED,kind=frames': 1, 'code=RATE_LIMITED,kind=connections': 1 })
})
