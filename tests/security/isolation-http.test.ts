import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEPLOYMENTS, forgedTokens, rawHttp, seed, stateOf, type Deployment, type HttpAnswer, type Side } from './attack.js'

/**
 * Isolation over HTTP, against the real cubby-server process, with paths sent byte for byte as written (no
 * client-side normalisation of `..` or percent-encoding). Run against one LevelDB node and against two `--redis`
 * nodes, with the attacker on one node and bob on the other.
 */

const JSON_TYPE = { 'content-type': 'application/json' }
const BOB_KEYS = ['secret', 'a/b', '..', '\u0000', '3:bob\u0000secret', '%2F', '{626f62}', '{', '}', '{61}']

/** The parts of an answer that could tell one request from another (dates and lengths aside). */
const shape = (a: HttpAnswer): unknown => ({ status: a.status, body: a.text, type: a.headers['content-type'], auth: a.headers['www-authenticate'] })

describe.each(DEPLOYMENTS)('isolation over HTTP: %s', (_name, start) => {
  let deployment: Deployment
  /** Where the attacker sends requests, and where bob does (the same node with one LevelDB node). */
  let attacker: Side
  let victim: Side
  let bobBefore: Awaited<ReturnType<typeof stateOf>>

  beforeAll(async () => {
    deployment = await start()
    ;({ attacker, victim } = deployment)
    await seed(victim, 'bob', Object.fromEntries(BOB_KEYS.map((k) => [k, { owner: 'bob' }])))
    bobBefore = await stateOf(victim, 'bob')
  }, 60_000)

  afterAll(async () => {
    if (deployment === undefined) return
    try {
      expect(await stateOf(victim, 'bob')).toEqual(bobBefore)
      expect(await stateOf(attacker, 'bob')).toEqual(bobBefore)
    } finally {
      await deployment[Symbol.asyncDispose]()
    }
  })

    it('refuses every forged token alike, on every route, whether the user exists or not', async () => {
      const forBob = forgedTokens(attacker, 'bob')
      const forNobody = forgedTokens(attacker, 'nobody-by-this-name')
      const routes: Array<[string, string]> = [['GET', '/v1/values'], ['GET', '/v1/values/secret'], ['PUT', '/v1/values/secret'], ['DELETE', '/v1/values/secret'], ['POST', '/v1/clear']]
      const { huge, ...forgeries } = forBob
      // A 200 kB token is past Node's header limit: refused (431, or a reset while it is still being sent) before
      // Cubby sees it.
      const hugeAnswer = await rawHttp(attacker.url, 'GET', '/v1/values', { token: huge! }).then((a) => a.status, (e: NodeJS.ErrnoException) => e.code)
      expect([431, 'ECONNRESET', 'EPIPE']).toContain(hugeAnswer)
      for (const [name, token] of Object.entries(forgeries)) {
        for (const [method, path] of routes) {
          const body = method === 'PUT' ? '"forged"' : undefined
          const bob = await rawHttp(attacker.url, method, path, { token, headers: JSON_TYPE, ...(body === undefined ? {} : { body }) })
          const nobody = await rawHttp(attacker.url, method, path, { token: forNobody[name]!, headers: JSON_TYPE, ...(body === undefined ? {} : { body }) })
          expect(bob.status, `${name}: ${method} ${path}`).toBe(401)
          // Only a token whose signature checked out may be called expired.
          expect(bob.json).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), reason: name === 'expired' ? 'expired' : 'invalid' } })
          expect(shape(nobody), name).toEqual(shape(bob))
        }
      }
    })

    it('ignores bob\'s id in query strings, headers, bodies and paths', async () => {
      const mallory = attacker.token('mallory')
      const smuggle = '?userId=bob&user=bob&sub=bob&uid=bob&as=bob&userId[]=bob'
      const headers = { ...JSON_TYPE, 'x-user-id': 'bob', 'x-cubby-user': 'bob', 'x-forwarded-user': 'bob', 'x-forwarded-for': 'bob' }
      const get = await rawHttp(attacker.url, 'GET', `/v1/values/secret${smuggle}`, { token: mallory, headers })
      expect(get.status).toBe(404)
      const list = await rawHttp(attacker.url, 'GET', `/v1/values${smuggle}&values=1`, { token: mallory, headers })
      expect(list.json).toEqual({ entries: [], next: null })
      const put = await rawHttp(attacker.url, 'PUT', `/v1/values/secret${smuggle}`, { token: mallory, headers, body: JSON.stringify({ userId: 'bob', owner: 'mallory' }) })
      expect(put.json).toEqual({ rev: 1 })
      for (const path of ['/v1/users/bob/values/secret', '/v1/values/bob/secret', '/v1/bob/values/secret', '/v1/values/secret/../../users/bob', '/v1//values/secret']) {
        const res = await rawHttp(attacker.url, 'GET', path, { token: mallory })
        expect(res.status, path).toBe(404)
        // The refusal names the path asked for, and nothing of bob's besides.
        expect((res.json as { error: { code: string } }).error.code, path).toBe('NOT_FOUND')
        expect(res.text.replaceAll(path, ''), path).not.toContain('bob')
      }
      expect((await rawHttp(attacker.url, 'POST', `/v1/clear${smuggle}`, { token: mallory, headers })).json).toEqual({ rev: 2 })
      expect((await stateOf(victim, 'mallory')).changes).toEqual([{ rev: 2, clear: true }])
    })

    it('keeps URL-encoded hostile keys in the caller\'s namespace, however they are encoded', async () => {
      const eve = attacker.token('eve')
      // Each path names a key of eve's; none may reach bob's `secret`, `a/b`, `..` or NUL key.
      const paths: Array<[string, string]> = [
        ['/v1/values/..%2Fbob%2Fsecret', '../bob/secret'],
        ['/v1/values/%2e%2e%2f%2e%2e%2fsecret', '../../secret'],
        ['/v1/values/a%2Fb', 'a/b'],
        ['/v1/values/%2E%2E', '..'],
        ['/v1/values/%00', '\u0000'],
        ['/v1/values/secret%00', 'secret\u0000'],
        ['/v1/values/3%3Abob%00secret', '3:bob\u0000secret'],
        ['/v1/values/d3%3Abob%00secret', 'd3:bob\u0000secret'],
        ['/v1/values/%252F', '%2F'],
        ['/v1/values/%5C..%5Cbob', '\\..\\bob'],
        ['/v1/values/%7B626f62%7D', '{626f62}'],
        ['/v1/values/%7B626f62%7D%3Ad', '{626f62}:d'],
        ['/v1/values/%7B61%7D', '{61}'],
        ['/v1/values/%7D%3Ad', '}:d'],
      ]
      for (const [path, key] of paths) {
        expect((await rawHttp(attacker.url, 'GET', path, { token: eve })).status, path).toBe(404)
        const put = await rawHttp(attacker.url, 'PUT', path, { token: eve, headers: JSON_TYPE, body: JSON.stringify({ owner: 'eve', key }) })
        expect(put.status, path).toBe(200)
        expect((await rawHttp(attacker.url, 'GET', path, { token: eve })).json, path).toEqual({ owner: 'eve', key })
        expect((await rawHttp(victim.url, 'GET', path, { token: eve })).json, path).toEqual({ owner: 'eve', key })
      }
      const listed = await rawHttp(attacker.url, 'GET', '/v1/values?limit=1000', { token: eve })
      expect((listed.json as { keys: string[] }).keys.sort()).toEqual(paths.map(([, key]) => key).sort())
      for (const prefix of ['%00', '3%3Abob', '..', '%2F', '']) {
        const res = await rawHttp(attacker.url, 'GET', `/v1/values?values=1&prefix=${prefix}&after=%00`, { token: eve })
        expect(res.text).not.toContain('"owner":"bob"')
      }
      // Paths that leave /v1/values by dot segments never reach another route's data.
      for (const path of ['/v1/values/../values/secret', '/v1/values/%2e%2e/values', '/v1/values/./secret', '/v1/values/a/b']) {
        const res = await rawHttp(attacker.url, 'GET', path, { token: eve })
        expect([200, 404], path).toContain(res.status)
        expect(res.text, path).not.toContain('"owner":"bob"')
      }
      for (const [path] of paths) expect((await rawHttp(attacker.url, 'DELETE', path, { token: eve })).status, path).toBe(200)
    })

    it('answers the same for a key another user has as for one nobody has', async () => {
      const mallory = attacker.token('prober')
      for (const method of ['GET', 'DELETE'] as const) {
        const taken = await rawHttp(attacker.url, method, '/v1/values/secret', { token: mallory })
        const free = await rawHttp(attacker.url, method, '/v1/values/nothing-like-it', { token: mallory })
        if (method === 'GET') expect(shape(taken)).toEqual(shape(free))
        else expect([taken.status, Object.keys(taken.json as object)]).toEqual([free.status, Object.keys(free.json as object)])
      }
      const list = await rawHttp(attacker.url, 'GET', '/v1/values?prefix=secret', { token: mallory })
      expect(list.json).toEqual({ keys: [], next: null })
    })
})
