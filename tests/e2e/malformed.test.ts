import { connectTestClient, openRawSocket, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

describe('malformed input', () => {
  it('answers malformed frames with typed errors and keeps serving everyone', async () => {
    await using server = await startCliServer()
    await using bystander = connectTestClient(server.url, { auth: server.token('bystander') })
    await using bystanderTwo = connectTestClient(server.url, { auth: server.token('bystander') })
    await Promise.all([bystander.ready(), bystanderTwo.ready()])

    await using raw = await openRawSocket(server.url)
    raw.hello(server.token('mallory'))
    await raw.next('synced')
    const bad: Array<string | Buffer | object> = [
      'not json',
      '',
      '[]',
      'null',
      '{"type":"nope"}',
      { type: 'push' },
      { type: 'push', clientId: 'c', mutations: [] },
      { type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 1, value: '1' }] },
      { type: 'push', clientId: 'c', mutations: [{ op: 'drop', mid: 1, key: 'k' }] },
      { type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: -1, key: 'k', value: '1' }] },
      { type: 'push', clientId: 'x'.repeat(500), mutations: [{ op: 'clear', mid: 1 }] },
      { type: 'hello', v: 1, token: 'again', cursor: 0 },
      Buffer.from([0xff, 0x00, 0x13]),
      '{"type":"push","clientId":"c","mutations":[{"op":"store","mid":1,"key":"k","value":"1"}',
    ]
    for (const frame of bad) raw.send(frame)
    await vi.waitFor(() => expect(raw.frames.filter((f) => f.type === 'error')).toHaveLength(bad.length))
    for (const error of raw.frames.filter((f) => f.type === 'error')) {
      expect(error.code).toMatch(/^(BAD_MESSAGE|UNAUTHORIZED)$/)
      expect(typeof error.message).toBe('string')
    }

    // Values and keys that parse but are invalid are rejected per mutation, with their own codes.
    raw.send({
      type: 'push',
      clientId: 'c',
      mutations: [
        { op: 'store', mid: 1, key: '', value: '1' },
        { op: 'store', mid: 2, key: 'k', value: '~[["NoSuchTag"]]' },
        { op: 'store', mid: 3, key: 'k', value: '{"unterminated"' },
        { op: 'store', mid: 4, key: 'ok', value: '"fine"' },
      ],
    })
    const ack = await raw.next('ack')
    expect(ack.results).toEqual([
      { mid: 1, error: expect.objectContaining({ code: 'INVALID_KEY' }) },
      { mid: 2, error: expect.objectContaining({ code: 'INVALID_VALUE' }) },
      { mid: 3, error: expect.objectContaining({ code: 'INVALID_VALUE' }) },
      { mid: 4, rev: 1 },
    ])

    // A frame over the message limit closes only that socket (1009), and the server lives on.
    raw.send('x'.repeat(5 * 1024 * 1024))
    expect(await raw.closed).toBe(1009)
    await bystander.store('still', 'alive')
    await vi.waitFor(async () => expect(await bystanderTwo.get('still')).toBe('alive'))
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  it('refuses a session without a valid hello', async () => {
    await using server = await startCliServer()
    await using noHello = await openRawSocket(server.url)
    noHello.send({ type: 'push', clientId: 'c', mutations: [{ op: 'clear', mid: 1 }] })
    expect(await noHello.closed).toBeGreaterThanOrEqual(4000)

    await using badToken = await openRawSocket(server.url)
    badToken.hello('not-a-token')
    expect((await badToken.next('error')).code).toBe('UNAUTHORIZED')
    expect(await badToken.closed).toBe(4001)

    await using oldVersion = await openRawSocket(server.url)
    oldVersion.send({ type: 'hello', v: 999, token: server.token('x'), cursor: 0 })
    expect((await oldVersion.next('error')).code).toBe('PROTOCOL_VERSION')
    expect(await oldVersion.closed).toBe(4002)
  })

  it('rejects a value over the configured limit on the client and on the server', async () => {
    await using server = await startCliServer({ args: ['--max-value-bytes', '100'] })
    await using client = connectTestClient(server.url, { auth: server.token('nina'), limits: { maxValueBytes: 100 } })
    await expect(client.store('big', 'x'.repeat(200))).rejects.toMatchObject({ code: 'VALUE_TOO_LARGE' })
    await using raw = await openRawSocket(server.url)
    raw.hello(server.token('nina'))
    await raw.next('synced')
    raw.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'big', value: JSON.stringify('x'.repeat(200)) }] })
    expect((await raw.next('ack')).results).toEqual([{ mid: 1, error: expect.objectContaining({ code: 'VALUE_TOO_LARGE' }) }])
  })
})
