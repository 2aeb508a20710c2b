import { createDeviceKey, openRawSocket, rawHttp, signDeviceToken, startRedisDeployment } from '@cubby/test-utils'
import { expect, it } from 'vitest'

it('serves one self-certified user from every node on one Redis, under the deployment\'s public origin', async () => {
  const origin = 'https://sync.example.com'
  await using deployment = await startRedisDeployment({ args: ['--public-origin', origin] })
  const [a, b] = deployment.nodes
  const key = await createDeviceKey()
  const token = await signDeviceToken(key, { aud: origin })
  // One token for the deployment works on either node (as behind a load balancer), and both see one user.
  const put = await rawHttp(a.url, 'PUT', '/v1/values/note', { token, headers: { 'content-type': 'application/json' }, body: '"hi"' })
  expect(put.status).toBe(200)
  await using socket = await openRawSocket(b.url)
  socket.hello(token)
  expect(await socket.next('welcome')).toMatchObject({ userId: key.userId, head: 1 })
  expect((await rawHttp(b.url, 'GET', '/v1/values/note', { token })).json).toBe('hi')
  // A token for a node's own address is not one for the deployment.
  const direct = await signDeviceToken(key, { aud: b.url })
  expect((await rawHttp(b.url, 'GET', '/v1/values', { token: direct })).json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'invalid' } })
}, 60_000)
