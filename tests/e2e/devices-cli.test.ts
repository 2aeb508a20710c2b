import { spawn } from 'node:child_process'
import type { DeviceListResponse } from '@cubby/protocol'
import { CLI_PATH, createDeviceKey, linkDevice, rawHttp, signDeviceToken, startCliServer } from '@cubby/test-utils'
import { expect, it } from 'vitest'

/** Runs `cubby-server …` to its end (killed after 20 s). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer)
    resolve({ code, stdout, stderr })
  }))
}

it('lists and revokes a user\'s devices with cubby-server users devices / revoke, and users delete removes them', async () => {
  await using server = await startCliServer()
  const phone = await createDeviceKey()
  const { deviceId } = await linkDevice(server.url, server.token('alice'), phone, 'phone')
  await linkDevice(server.url, server.token('alice'), await createDeviceKey(), 'tablet')
  await server.stop()
  const dir = ['--data-dir', server.dataDir]
  const listed = await cli(['users', 'devices', 'alice', ...dir])
  expect(listed.code).toBe(0)
  expect(listed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { label: string }).label).sort()).toEqual(['phone', 'tablet'])
  expect(await cli(['users', 'revoke', 'alice', deviceId, ...dir])).toMatchObject({ code: 0, stdout: '{"revoked":true}\n' })
  expect(await cli(['users', 'revoke', 'alice', 'no-such-device', ...dir])).toMatchObject({ code: 1, stderr: expect.stringContaining('has no device') })
  expect(await cli(['users', 'revoke', 'alice', ...dir])).toMatchObject({ code: 2 })
  await server.start()
  const token = await signDeviceToken(phone, { aud: server.url, sub: 'alice' })
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'revoked' } })
  await server.stop()
  expect((await cli(['users', 'delete', 'alice', ...dir])).code).toBe(0)
  expect(await cli(['users', 'devices', 'alice', ...dir])).toMatchObject({ code: 0, stdout: '' })
  await server.start()
  const admin = await rawHttp(server.url, 'GET', '/v1/devices', { token: server.token('alice') })
  expect((admin.json as DeviceListResponse).devices).toEqual([])
}, 60_000)
