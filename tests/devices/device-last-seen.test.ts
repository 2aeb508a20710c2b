import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { DEVICE_USER_PREFIX, type DeviceInfo, type DeviceListResponse } from '@cubby/protocol'
import { CLI_PATH, createDeviceKey, createLinkCode, linkDevice, rawHttp, signDeviceToken, startCliServer, type CliServer, type DeviceKey } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

let server: CliServer
beforeAll(async () => {
  server = await startCliServer({ args: ['--identity-burst', '1000'] })
})
afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
})

const someone = (): string => `user-${randomBytes(6).toString('hex')}`
const listOf = async (token: string, url = server.url): Promise<DeviceInfo[]> => ((await rawHttp(url, 'GET', '/v1/devices', { token })).json as DeviceListResponse).devices
const deviceOf = async (token: string, id: string, url = server.url): Promise<DeviceInfo | undefined> => (await listOf(token, url)).find((d) => d.id === id)
const idOf = (key: DeviceKey): string => key.userId.slice(DEVICE_USER_PREFIX.length)

/** Runs `cubby-server …` to its end (killed after 20 s). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve) => child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout }))))
}

describe('a device\'s lastSeen', () => {
  it('appears once a token of the device is accepted, and is not written again within the minute', async () => {
    const alice = someone()
    const phone = await createDeviceKey()
    await linkDevice(server.url, server.token(alice), phone, 'phone')
    // Redeeming proves the key but is no token of alice's: not seen yet.
    expect(await deviceOf(server.token(alice), idOf(phone))).not.toHaveProperty('lastSeen')
    const before = Date.now()
    const token = await signDeviceToken(phone, { aud: server.url, sub: alice })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).status).toBe(200)
    await vi.waitFor(async () => expect((await deviceOf(server.token(alice), idOf(phone)))?.lastSeen).toBeGreaterThanOrEqual(before))
    const seen = (await deviceOf(server.token(alice), idOf(phone)))!.lastSeen
    for (let i = 0; i < 5; i++) expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).status).toBe(200)
    // A registry write queued after the requests': any lastSeen write they made is done by then.
    expect((await createLinkCode(server.url, server.token(alice))).status).toBe(201)
    expect((await deviceOf(token, idOf(phone)))?.lastSeen).toBe(seen)
  })

  it('is kept for a self-certified user\'s own key once it has linked a device, and listed first', async () => {
    const laptop = await createDeviceKey()
    const own = await signDeviceToken(laptop, { aud: server.url })
    const phone = await createDeviceKey()
    await linkDevice(server.url, own, phone, 'phone')
    const before = Date.now()
    // The next accepted token of the laptop's key is seen.
    const again = await signDeviceToken(laptop, { aud: server.url })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: again })).status).toBe(200)
    await vi.waitFor(async () => {
      const [first, second] = await listOf(again)
      expect(first).toMatchObject({ id: idOf(laptop), createdAt: 0, current: true, lastSeen: expect.any(Number) })
      expect(first!.lastSeen).toBeGreaterThanOrEqual(before)
      expect(second).toMatchObject({ id: idOf(phone), label: 'phone', current: false })
    })
  })

  it('is in the CLI listing', async () => {
    await using own = await startCliServer()
    const phone = await createDeviceKey()
    await linkDevice(own.url, own.token('alice'), phone, 'phone')
    const token = await signDeviceToken(phone, { aud: own.url, sub: 'alice' })
    expect((await rawHttp(own.url, 'GET', '/v1/values', { token })).status).toBe(200)
    await vi.waitFor(async () => expect((await deviceOf(token, idOf(phone), own.url))?.lastSeen).toEqual(expect.any(Number)))
    await own.stop()
    const listed = await cli(['users', 'devices', 'alice', '--data-dir', own.dataDir])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toMatchObject({ id: idOf(phone), label: 'phone', lastSeen: expect.any(Number) })
  })
})
