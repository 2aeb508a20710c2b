import { isCubbyError } from '@cubby/protocol'
import { startTestServer } from '@cubby/test-utils'
import { expect, it } from 'vitest'

it('takes ifVersion and ifAbsent in the server verbs, throwing CONFLICT when they do not hold', async () => {
  await using server = await startTestServer()
  const rev = await server.cubby.store('verbs', 'seat', 'alice', { ifAbsent: true })
  expect(await server.cubby.getEntry('verbs', 'seat')).toEqual({ value: 'alice', version: rev })
  await expect(server.cubby.store('verbs', 'seat', 'bob', { ifAbsent: true })).rejects.toSatisfy((e) => isCubbyError(e, 'CONFLICT'))
  await expect(server.cubby.store('verbs', 'seat', 'bob', { ifVersion: rev + 1 })).rejects.toSatisfy((e) => isCubbyError(e, 'CONFLICT'))
  const next = await server.cubby.store('verbs', 'seat', 'bob', { ifVersion: rev })
  await expect(server.cubby.delete('verbs', 'seat', { ifVersion: rev })).rejects.toSatisfy((e) => isCubbyError(e, 'CONFLICT'))
  await server.cubby.delete('verbs', 'seat', { ifVersion: next })
  expect(await server.cubby.getEntry('verbs', 'seat')).toBeUndefined()
  await expect(server.cubby.store('verbs', 'seat', 1, { ifVersion: -1 })).rejects.toThrow(TypeError)
})
