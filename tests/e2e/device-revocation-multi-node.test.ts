import type { LinkCodeResponse } from '@cubby/protocol'
import { createDeviceKey, createLinkCode, openRawSocket, rawHttp, redeemLinkCode, signDeviceToken, startRedisDeployment } from '@cubby/test-utils'
import { expect, it } from 'vitest'

it('links a device on one node, and a revocation on one node closes its session on the other at once', async () => {
  await using deployment = await startRedisDeployment()
  const [a, b] = deployment.nodes
  const alice = 'alice'
  const phone = await createDeviceKey()
  // The code is made on A and redeemed on B: both read one registry.
  const { code } = (await createLinkCode(a.url, deployment.token(alice))).json as LinkCodeResponse
  const redeemed = await redeemLinkCode(b.url, phone, code, { label: 'phone' })
  expect(redeemed.json).toMatchObject({ userId: alice })
  const { deviceId } = redeemed.json as { deviceId: string }
  // A replay on the other node finds the code gone too.
  expect((await redeemLinkCode(a.url, await createDeviceKey(), code)).status).toBe(404)
  await using onB = await openRawSocket(b.url)
  onB.hello(await signDeviceToken(phone, { aud: b.url, sub: alice }))
  expect(await onB.next('welcome')).toMatchObject({ userId: alice })
  await onB.next('synced')
  await using onA = await openRawSocket(a.url)
  onA.hello(await signDeviceToken(phone, { aud: a.url, sub: alice }))
  await onA.next('synced')
  expect((await rawHttp(a.url, 'DELETE', `/v1/devices/${deviceId}`, { token: deployment.token(alice) })).json).toEqual({ revoked: true })
  expect(await onA.closed).toBe(4001)
  expect(await onB.closed).toBe(4001)
  expect(onB.frames.at(-1)).toMatchObject({ type: 'error', code: 'UNAUTHORIZED', reason: 'revoked' })
  const refused = await rawHttp(b.url, 'GET', '/v1/values', { token: await signDeviceToken(phone, { aud: b.url, sub: alice }) })
  expect(refused.json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'revoked' } })
}, 60_000)

it('revokes through the admin API of one node, and a user deletion on one node removes the devices on every node', async () => {
  await using deployment = await startRedisDeployment()
  const [a, b] = deployment.nodes
  const [phone, tablet] = [await createDeviceKey(), await createDeviceKey()]
  for (const key of [phone, tablet]) {
    const { code } = (await createLinkCode(a.url, deployment.token('bob'))).json as LinkCodeResponse
    expect((await redeemLinkCode(a.url, key, code)).status).toBe(200)
  }
  await using onB = await openRawSocket(b.url)
  onB.hello(await signDeviceToken(phone, { aud: b.url, sub: 'bob' }))
  await onB.next('synced')
  const admin = { token: deployment.adminToken }
  const phoneId = phone.userId.slice('anon_key_'.length)
  expect((await rawHttp(a.url, 'DELETE', `/v1/admin/users/bob/devices/${phoneId}`, admin)).json).toEqual({ revoked: true })
  expect(await onB.closed).toBe(4001)
  expect(((await rawHttp(b.url, 'GET', '/v1/admin/users/bob/devices', admin)).json as { devices: unknown[] }).devices).toHaveLength(2)
  expect((await rawHttp(b.url, 'DELETE', '/v1/admin/users/bob', admin)).status).toBe(200)
  expect((await rawHttp(a.url, 'GET', '/v1/admin/users/bob/devices', admin)).json).toEqual({ devices: [] })
  const tabletToken = await signDeviceToken(tablet, { aud: a.url, sub: 'bob' })
  expect((await rawHttp(a.url, 'GET', '/v1/values', { token: tabletToken })).json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'invalid' } })
}, 60_000)
