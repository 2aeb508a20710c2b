import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { startCli } from './startCli.js'

it('listens on the given host and port 0 and prints one parseable line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-cli-'))
  const lines: string[] = []
  try {
    const { cubby, url } = await startCli({
      host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), secret: 'from-env', staticDir: undefined, metricsPort: undefined, metricsHost: '127.0.0.1', logFormat: 'text', limits: { maxKeyBytes: 4 }, server: {},
      redis: undefined, secretFile: undefined, adminTokenFile: undefined,
    }, (line) => lines.push(line))
    await using _ = cubby
    expect(lines[0]).toMatch(/^cubby-server listening on http:\/\/127\.0\.0\.1:\d+$/)
    expect(lines[0]).toBe(`cubby-server listening on ${url}`)
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true })
    await expect(cubby.store('u', 'too-long', 1)).rejects.toMatchObject({ code: 'INVALID_KEY' })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
