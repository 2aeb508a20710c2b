import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { loadSecret } from './loadSecret.js'

it('creates the secret once and then reads it back, leaving no temporary files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-secret-'))
  try {
    const dataDir = join(dir, 'nested', 'data')
    const secret = loadSecret(dataDir)
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(loadSecret(dataDir)).toBe(secret)
    expect(await readdir(dataDir)).toEqual(['secret'])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('refuses an empty secret file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-secret-'))
  try {
    await writeFile(join(dir, 'secret'), '\n')
    expect(() => loadSecret(dir)).toThrow(/empty/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
