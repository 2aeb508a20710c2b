import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { loadPreviousSecrets, loadSecret } from './loadSecret.js'

it('creates the secret once and then reads it back, leaving no temporary files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-secret-'))
  try {
    const dataDir = join(dir, 'nested', 'data')
    const secret = loadSecret(dataDir)
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(loadSecret(dataDir)).toBe(secret)
    expect(await readdir(dataDir)).toEqual(['secret'])
    expect((await stat(join(dataDir, 'secret'))).mode & 0o777).toBe(0o600)
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)
    expect(loadSecret(dataDir, 'admin-token')).not.toBe(secret)
    expect((await stat(join(dataDir, 'admin-token'))).mode & 0o777).toBe(0o600)
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

it('reads the first line as the secret and the others as previous secrets', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-secret-'))
  try {
    expect(loadPreviousSecrets(dir)).toEqual([])
    await writeFile(join(dir, 'secret'), 'new\n\nold\r\nolder\n')
    expect(loadSecret(dir)).toBe('new')
    expect(loadPreviousSecrets(dir)).toEqual(['old', 'older'])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
