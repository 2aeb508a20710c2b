import type { ChangesMessage } from '@cubby/protocol'
import {
  connectUser, createDeviceKey, mergeAccount, openRawSocket, signDeviceToken, startCliServer, startRedisDeployment,
} from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

/** A new server-issued anonymous identity. */
async function newIdentity(url: string): Promise<{ userId: string; token: string }> {
  const res = await fetch(`${url}/v1/identities`, { method: 'POST' })
  expect(res.status).toBe(201)
  return await res.json() as { userId: string; token: string }
}

async function put(url: string, token: string, key: string, value: unknown): Promise<void> {
  const res = await fetch(`${url}/v1/values/${encodeURIComponent(key)}`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(value),
  })
  expect(res.status).toBe(200)
}

/** Every key and value of a user, read over HTTP. */
async function valuesOf(url: string, token: string): Promise<Record<string, unknown>> {
  const headers = { authorization: `Bearer ${token}` }
  const { keys } = await (await fetch(`${url}/v1/values`, { headers })).json() as { keys: string[] }
  const values: Record<string, unknown> = {}
  for (const key of keys) values[key] = await (await fetch(`${url}/v1/values/${encodeURIComponent(key)}`, { headers })).json()
  return values
}

/** The keys of the changes after `rev` a socket received. */
const changedKeys = (frames: readonly unknown[], rev: number): string[] =>
  (frames as ChangesMessage[]).filter((f) => f.type === 'changes').flatMap((f) => f.changes.flatMap((c) => ('key' in c && c.rev > rev ? [c.key] : [])))

describe('account merge (real server process)', () => {
  it('moves the anonymous keys into the account, live on an account device, and deletes the anonymous user', async () => {
    await using server = await startCliServer()
    const anon = await newIdentity(server.url)
    await put(server.url, anon.token, 'theme', 'dark')
    await put(server.url, anon.token, 'draft', { text: 'hello' })
    await put(server.url, server.token('alice'), 'plan', 'pro')
    await using laptop = await connectUser(server, 'alice')
    await using anonDevice = await openRawSocket(server.url)
    anonDevice.hello(anon.token)
    await anonDevice.next('synced')

    const { status, body } = await mergeAccount(server.url, { accountToken: server.token('alice'), proof: anon.token })
    expect(status).toBe(200)
    expect(body).toEqual({ account: 'alice', anonymous: anon.userId, head: 3, written: 2, conflicts: [], clients: 0 })
    // The account's device gets the new keys live; the anonymous device is told its user is gone.
    await laptop.next('changes', (f) => f.rev === 3)
    expect(changedKeys(laptop.frames, 1).sort()).toEqual(['draft', 'theme'])
    await anonDevice.next('user-deleted')
    expect(await anonDevice.closed).toBe(4010)
    expect(await valuesOf(server.url, server.token('alice'))).toEqual({ draft: { text: 'hello' }, plan: 'pro', theme: 'dark' })
    const old = await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${anon.token}` } })
    expect([old.status, ((await old.json()) as { error: { reason: string } }).error.reason]).toEqual([401, 'revoked'])
  })

  it('keeps the account\'s value on a conflicting key by default, and the anonymous one with prefer: anonymous', async () => {
    await using server = await startCliServer()
    for (const prefer of ['account', 'anonymous'] as const) {
      const account = `user-${prefer}`
      const anon = await newIdentity(server.url)
      await put(server.url, server.token(account), 'theme', 'light')
      await put(server.url, anon.token, 'theme', 'dark')
      await put(server.url, anon.token, 'only-anon', 1)
      const { status, body } = await mergeAccount(server.url, { accountToken: server.token(account), proof: anon.token, prefer })
      expect([status, 'conflicts' in body && body.conflicts]).toEqual([200, ['theme']])
      expect(await valuesOf(server.url, server.token(account))).toEqual({ 'only-anon': 1, theme: prefer === 'account' ? 'light' : 'dark' })
    }
  })

  it('applies a pending write of the anonymous device once when it is re-sent under the account with the same client id and mid', async () => {
    await using server = await startCliServer()
    const anon = await newIdentity(server.url)
    await using phone = await openRawSocket(server.url)
    phone.hello(anon.token)
    await phone.next('synced')
    phone.send({ type: 'push', clientId: 'phone-1', mutations: [{ op: 'store', mid: 1, key: 'count', value: '1' }, { op: 'store', mid: 2, key: 'count', value: '2' }] })
    await phone.next('ack')
    // mid 2 was applied, but say its ack was lost; mid 3 was never sent. The phone signs in.
    const { body } = await mergeAccount(server.url, { accountToken: server.token('carol'), proof: anon.token })
    expect(body).toMatchObject({ clients: 1, head: 1 })
    await using account = await connectUser(server, 'carol')
    account.send({ type: 'push', clientId: 'phone-1', mutations: [{ op: 'store', mid: 2, key: 'count', value: '2' }, { op: 'store', mid: 3, key: 'count', value: '3' }] })
    const ack = await account.next('ack')
    expect(ack.results).toEqual([{ mid: 2, rev: 1 }, { mid: 3, rev: 2 }])
    // A retry comes on a new connection (on the same one, a mid at or below one pushed there is OUT_OF_ORDER).
    await using again = await connectUser(server, 'carol')
    again.send({ type: 'push', clientId: 'phone-1', mutations: [{ op: 'store', mid: 3, key: 'count', value: '3' }] })
    expect((await again.next('ack')).results).toEqual([{ mid: 3, rev: 2 }])
    expect(await valuesOf(server.url, server.token('carol'))).toEqual({ count: 3 })
  })

  it('merges two devices, each with its own anonymous data, into one account', async () => {
    await using server = await startCliServer()
    const key = await createDeviceKey()
    const deviceToken = (): Promise<string> => signDeviceToken(key, { aud: server.url })
    await put(server.url, await deviceToken(), 'phone-note', 'a')
    await put(server.url, await deviceToken(), 'shared', 'from phone')
    const tablet = await newIdentity(server.url)
    await put(server.url, tablet.token, 'tablet-note', 'b')
    await put(server.url, tablet.token, 'shared', 'from tablet')
    const first = await mergeAccount(server.url, { accountToken: server.token('dave'), proof: await deviceToken() })
    expect(first.body).toMatchObject({ anonymous: key.userId, written: 2 })
    const second = await mergeAccount(server.url, { accountToken: server.token('dave'), proof: tablet.token })
    expect(second.body).toMatchObject({ anonymous: tablet.userId, written: 1, conflicts: ['shared'] })
    expect(await valuesOf(server.url, server.token('dave'))).toEqual({ 'phone-note': 'a', shared: 'from phone', 'tablet-note': 'b' })
  })

  it('merges on a Redis deployment: the account\'s device on the other node gets the keys live', async () => {
    await using deployment = await startRedisDeployment()
    const [a, b] = deployment.nodes
    const anon = await newIdentity(a.url)
    await put(a.url, anon.token, 'theme', 'dark')
    await put(b.url, deployment.token('erin'), 'theme', 'light')
    await using laptop = await connectUser(b, 'erin')
    await using anonDevice = await openRawSocket(b.url)
    anonDevice.hello(anon.token)
    await anonDevice.next('synced')
    const { status, body } = await mergeAccount(a.url, { accountToken: deployment.token('erin'), proof: anon.token, prefer: 'anonymous' })
    expect([status, body]).toEqual([200, { account: 'erin', anonymous: anon.userId, head: 2, written: 1, conflicts: ['theme'], clients: 0 }])
    await laptop.next('changes', (f) => f.rev === 2)
    expect(changedKeys(laptop.frames, 1)).toEqual(['theme'])
    expect(await anonDevice.closed).toBe(4010)
    expect(await valuesOf(b.url, deployment.token('erin'))).toEqual({ theme: 'dark' })
    expect(await valuesOf(b.url, (await newIdentity(b.url)).token)).toEqual({})
  })

  it('brings a merge larger than a catch-up page to the account\'s devices on both nodes in full', async () => {
    await using deployment = await startRedisDeployment()
    const [a, b] = deployment.nodes
    const anon = await newIdentity(a.url)
    const big = (n: number): string => String(n).repeat(700_000)
    for (const n of [1, 2, 3]) await put(a.url, anon.token, `photo-${n}`, big(n))
    await using here = await connectUser(a, 'fay')
    await using there = await connectUser(b, 'fay')
    const { status } = await mergeAccount(a.url, { accountToken: deployment.token('fay'), proof: anon.token })
    expect(status).toBe(200)
    for (const device of [here, there]) {
      await device.next('changes', (f) => f.rev === 3)
      expect(changedKeys(device.frames, 0).sort()).toEqual(['photo-1', 'photo-2', 'photo-3'])
      const values = (device.frames as ChangesMessage[]).filter((f) => f.type === 'changes').flatMap((f) => f.changes)
      expect(values.map((c) => ('value' in c ? c.value.length : 0))).toEqual([700_002, 700_002, 700_002])
    }
  })
})
