import { expect, it } from 'vitest'
import { connectionCap, openFileLimit } from './descriptorLimit.js'

it('keeps a reserve of the open-file limit for the database, and the configured cap when it is lower', () => {
  expect(connectionCap(10_000, undefined)).toBe(10_000)
  expect(connectionCap(10_000, 256)).toBe(192)
  expect(connectionCap(10_000, 1024)).toBe(768)
  expect(connectionCap(10_000, 65_536)).toBe(10_000)
  expect(connectionCap(10_000, 100_000)).toBe(10_000)
  expect(connectionCap(10_000, 50)).toBe(1)
})

it('reads the soft open-file limit of this process', () => {
  const limit = openFileLimit()
  if (process.platform === 'linux') expect(limit).toBeGreaterThan(0)
  else expect(limit).toBeUndefined()
})
