import { encodeValue } from '@cubby/protocol'
import fc from 'fast-check'

/** Keys: ordinary, empty, over-long, full of separators, lone surrogates, control characters. */
const keyArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('', '/', '..', '%2F', '\u0000', '3:bob\u0000k', '\ud800', 'a\udfff', 'x'.repeat(2000)),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.anything({ maxDepth: 1 }),
)

/** Encoded values: valid encodings of arbitrary values, and near-valid and broken ones. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true })
    .map((v) => { try { return encodeValue(v) } catch { return '"unencodable"' } }),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }).map((s) => `~${s}`),
  fc.array(fc.oneof(fc.integer({ min: -5, max: 20 }), fc.constantFrom('Date', 'Map', 'Set', 'BigInt', 'Uint8Array', 'ArrayBuffer', 'Error', 'RegExp', 'NoSuchTag')), { maxLength: 8 })
    .map((a) => `~${JSON.stringify([a])}`),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.anything({ maxDepth: 1 }),
)

const mutationArb = fc.record({
  op: fc.oneof(fc.constantFrom('store', 'delete', 'clear'), fc.string({ maxLength: 6 })),
  mid: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 60), fc.anything({ maxDepth: 0 })),
  key: keyArb,
  value: valueArb,
}, { requiredKeys: ['op', 'mid'] })

/** Push frames, mostly well-formed, some with wrong field types or order. */
const pushArb: fc.Arbitrary<object> = fc.record({
  type: fc.constant('push'),
  clientId: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.constantFrom('', 'x'.repeat(200), 'bob'), fc.anything({ maxDepth: 0 })),
  mutations: fc.oneof(fc.array(mutationArb, { minLength: 1, maxLength: 12 }), fc.anything({ maxDepth: 1 })),
})

/** Flips, drops and inserts characters of a frame's text. */
const mutateText = (text: string): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.nat({ max: Math.max(0, text.length - 1) }), fc.constantFrom('drop', 'flip', 'insert'), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 4 })
    .map((edits) => edits.reduce((t, [at, kind, s]) =>
      kind === 'drop' ? t.slice(0, at) + t.slice(at + 1) : kind === 'flip' ? t.slice(0, at) + s + t.slice(at + 1) : t.slice(0, at) + s + t.slice(at), text))

/** Any frame a hostile client might send after its hello: a string, a binary frame, or an object to JSON-encode. */
export const frameArb: fc.Arbitrary<string | Uint8Array | object> = fc.oneof(
  { weight: 4, arbitrary: pushArb },
  { weight: 3, arbitrary: pushArb.chain((p) => mutateText(JSON.stringify(p))) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom('hello', 'push', 'ack', 'changes', 'subscribe', 'user-deleted', '__proto__', 'constructor'), fc.string()), v: fc.anything({ maxDepth: 0 }), token: fc.anything({ maxDepth: 0 }), cursor: fc.anything({ maxDepth: 0 }) }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('{"type":"push","__proto__":{"clientId":"c","mutations":[{"op":"clear","mid":1}]}}', '{"type":"push","clientId":"c","mutations":[{"op":"store","mid":1,"key":"k","value":"1","__proto__":{"op":"clear"}}]}', '{'.repeat(5000), '['.repeat(5000) + ']'.repeat(5000), '"\\ud800"', '{"type":"push","clientId":"c","mutations":[{"op":"store","mid":1,"key":"k","value":"~[[\\"BigInt\\",\\"' + 'f'.repeat(50_000) + '\\"]]"}]}') },
)

/** First frames: hellos with broken fields, other messages, garbage. */
export const firstFrameArb = (validToken: string): fc.Arbitrary<string | Uint8Array | object> => fc.oneof(
  fc.record({ type: fc.constant('hello'), v: fc.oneof(fc.constant(1), fc.anything({ maxDepth: 0 })), token: fc.oneof(fc.constant(validToken), fc.string({ maxLength: 40 }), fc.anything({ maxDepth: 0 }), fc.constant(validToken).chain((t) => mutateText(t))), cursor: fc.oneof(fc.nat(), fc.anything({ maxDepth: 0 })) }),
  frameArb,
)

const safePathChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&\'()*+,;=:@/%?#['
/** Characters Node's http client accepts in a request path. */
const pathTextArb = fc.string({ unit: fc.constantFrom(...safePathChars), maxLength: 30 })

/** One HTTP request: method, path, headers and body, mostly aimed at /v1. */
export const httpRequestArb = (tokens: { valid: string; forged: string }): fc.Arbitrary<{ method: string; path: string; headers: Record<string, string>; body: string | undefined }> => fc.record({
  method: fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'HEAD'),
  path: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }).map((k) => `/v1/values/${encodeURIComponent(k)}`),
    pathTextArb.map((p) => `/v1/values/${p}`),
    fc.tuple(fc.constantFrom('prefix', 'after', 'limit', 'values', 'userId'), pathTextArb, fc.constantFrom('prefix', 'limit', 'after')).map(([a, b, c]) => `/v1/values?${a}=${encodeURIComponent(b)}&${c}=${encodeURIComponent(b)}&${a}=x`),
    pathTextArb.map((p) => `/v1/${p}`),
    fc.constantFrom('/v1/values', '/v1/identities', '/v1/sync', '/healthz', '/v1', '/v1/values/', '/v1/clear', '/v1/v1/values/k', '/v1/values/%', '/v1/values/%ZZ', '/v1/values/%C0%AF', '/v1/values/%ED%A0%80'),
  ),
  headers: fc.record({
    authorization: fc.oneof(fc.constant(`Bearer ${tokens.valid}`), fc.constant(`Bearer ${tokens.forged}`), fc.constant('Bearer'), fc.string({ unit: fc.constantFrom(...'Bearer abc.-_ '), maxLength: 30 })),
    'content-type': fc.constantFrom('application/json', 'application/vnd.cubby.value+json', 'text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
    origin: fc.constantFrom('http://localhost:5173', 'https://evil.example', 'null'),
  }, { requiredKeys: ['authorization'] }),
  body: fc.option(fc.oneof(
    fc.json({ maxDepth: 3 }),
    valueArb.map((v) => (typeof v === 'string' ? (v.startsWith('~') ? v.slice(1) : v) : JSON.stringify(v) ?? '')),
    fc.string({ unit: 'binary', maxLength: 80 }),
  ), { nil: undefined }),
})

/** Request-targets `new URL()` and decodeURIComponent choke on; each once ended the process as an upgrade. */
const HOSTILE_TARGETS: readonly string[] = [
  '//[', 'http://[', '//%', 'http://a:99999/v1/sync', 'http://[::1/v1/sync', '/v1/sync?%', '/v1/sync#%', '*', '//v1/sync',
  'http://localhost/v1/sync', '/v1/values/%', '/v1/values/%E0%A4%A', '/v1/admin/users/%/export', '/v1/%', '/%', '/..%2F..%2Fetc',
]

/** Visible ASCII (what llhttp takes in a request-target) plus a few bytes above 0x7F. */
const targetChars = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
)

/** A request-target: the hostile ones, garbage, garbage under /v1 and /v1/sync, absolute-form. */
const targetArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_TARGETS),
  fc.string({ unit: targetChars, minLength: 1, maxLength: 40 }),
  fc.tuple(fc.constantFrom('/v1/sync', '/v1/values/', '/v1/', '//', 'http://', 'http://[', '/v1/admin/users/'), fc.string({ unit: targetChars, maxLength: 20 }))
    .map(([a, b]) => a + b),
)

/** Header values a hostile client sends: empty, garbage, broken URLs and addresses, bytes above 0x7F. */
const headerValueArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'null', 'http://[', '//%', 'http://a:99999', 'file://', 'http://localhost:5173', '::ffff:', '::', ':::::', '1.2.3.4, ', ',', '%', 'unknown', 'fe80::1%eth0'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: targetChars, maxLength: 20 }),
)

/** A raw HTTP/1.1 request with a hostile target and headers, as an upgrade to WebSocket or a plain request. */
export const rawRequestArb = (token: string): fc.Arbitrary<{ upgrade: boolean; text: string }> => fc.record({
  // No HEAD: a refusal of unparsable HTTP carries a body, and a HEAD answer's framing cannot show it.
  method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  target: targetArb,
  upgrade: fc.boolean(),
  key: fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'x', ''),
  host: fc.option(fc.oneof(fc.constant('127.0.0.1'), headerValueArb), { freq: 8, nil: undefined }),
  headers: fc.record({
    Origin: headerValueArb,
    'X-Forwarded-For': headerValueArb,
    Authorization: fc.oneof(fc.constant(`Bearer ${token}`), headerValueArb),
    'Sec-WebSocket-Version': fc.constantFrom('13', '8', 'x'),
    'Sec-WebSocket-Protocol': headerValueArb,
  }, { requiredKeys: [] }),
}).map(({ method, target, upgrade, key, host, headers }) => {
  const lines = [`${method} ${target} HTTP/1.1`, ...(host === undefined ? [] : [`Host: ${host}`]), ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)]
  if (upgrade) lines.push('Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${key}`)
  else lines.push('Connection: close')
  return { upgrade, text: `${lines.join('\r\n')}\r\n\r\n` }
})
