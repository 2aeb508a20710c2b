import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createCubbyServer } from '../createCubbyServer.js'
import { rawHttp as httpRequest } from '@cubby/test-utils'

async function serve(staticDir?: string): Promise<AsyncDisposable & { url: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-static-'))
  const cubby = createCubbyServer({ dataDir, logger: null })
  const { url } = await cubby.listen(staticDir === undefined ? {} : { staticDir })
  return { url, [Symbol.asyncDispose]: async () => { await cubby.close(); await rm(dataDir, { recursive: true, force: true }) } }
}

describe('listen() at /', () => {
  it('serves a single-page app with index.html for client-side routes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cubby-spa-'))
    await writeFile(join(dir, 'index.html'), '<h1>app</h1>')
    await writeFile(join(dir, 'app.js'), 'console.log(1)')
    try {
      await using server = await serve(dir)
      const html = { accept: 'text/html' }
      expect((await httpRequest(server.url, 'GET', '/', { headers: html })).text).toBe('<h1>app</h1>')
      expect((await httpRequest(server.url, 'GET', '/app.js')).text).toBe('console.log(1)')
      expect((await httpRequest(server.url, 'GET', '/settings/profile', { headers: html })).text).toBe('<h1>app</h1>')
      expect((await httpRequest(server.url, 'GET', '/missing.js', { headers: { accept: 'application/javascript' } })).status).toBe(404)
      expect((await httpRequest(server.url, 'GET', '/v1/nothing', { headers: html })).status).toBe(404)
      expect((await httpRequest(server.url, 'GET', '/healthz')).json).toEqual({ ok: true })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('answers a short text page without an app', async () => {
    await using server = await serve()
    const res = await httpRequest(server.url, 'GET', '/')
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.text).toContain('/v1/sync')
  })
})
