import { connectTestClient, startCliServer, startTestServer } from '@cubby/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'

// Where WebCrypto is missing (plain http from another host than localhost: getRandomValues, no subtle, no
// randomUUID), the client asks the server for its anonymous identity instead of making one on the device.
beforeEach(() => {
  const real = globalThis.crypto
  vi.stubGlobal('crypto', { getRandomValues: real.getRandomValues.bind(real) })
  return () => void vi.unstubAllGlobals()
})

describe('creating the anonymous identity on the server, without WebCrypto, against the real server', () => {
  it('reports an unreachable server once as NETWORK, says offline, and gets the identity when the server is back', async () => {
    // The server in a process of its own: it signs with the WebCrypto this process lacks here.
    await using server = await startCliServer()
    await server.stop()
    const warnings: string[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning.name)
    process.on('warning', onWarning)
    try {
      let attempts = 0
      const countingFetch: typeof fetch = (input, init) => (attempts++, globalThis.fetch(input, init))
      await using client = connectTestClient(server.url, { cache: 'memory', fetch: countingFetch, reconnect: { minDelayMs: 1, maxDelayMs: 5 } })
      const errors: string[] = []
      client.addEventListener('error', (e) => errors.push(e.detail.error.code))
      await vi.waitFor(() => expect(client.status).toBe('offline'))
      // Many more attempts than the 10 listeners that make Node warn about a leak on the client's AbortSignal.
      await vi.waitFor(() => expect(attempts).toBeGreaterThan(30), { timeout: 15_000 })
      expect(errors).toEqual(['NETWORK'])
      await server.start()
      await client.ready()
      expect(client.status).toBe('online')
      expect(client.userId).toMatch(/\S/)
      expect(errors).toEqual(['NETWORK'])
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning')
  })

  it('names the URL when the answer is not from a Cubby server (a wrong base path)', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(`${server.url}/not-cubby`, { cache: 'memory', reconnect: { minDelayMs: 1, maxDelayMs: 5 } })
    const errors: Array<{ code: string; message: string }> = []
    client.addEventListener('error', (e) => errors.push({ code: e.detail.error.code, message: e.detail.error.message }))
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0))
    expect(errors[0]!.code).not.toBe('UNAUTHORIZED')
    expect(errors[0]!.code).not.toBe('INTERNAL')
    expect(errors[0]!.message).toContain(`${server.url}/not-cubby/v1/identities`)
  })
})
