import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCubbyServer } from '../createCubbyServer.js'
import type { CubbyServer } from '../CubbyServer.js'
import type { CubbyServerOptions } from '../CubbyServerOptions.js'

/** A server on 127.0.0.1 with a temporary data dir, removed on dispose. */
export interface TestServer extends AsyncDisposable {
  cubby: CubbyServer
  url: string
  wsUrl: string
  dataDir: string
}

/** Starts a real server (LevelDB in a temp dir, port 0 on 127.0.0.1) for a test. */
export async function startTestServer(options: Omit<CubbyServerOptions, 'dataDir'> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-server-'))
  const cubby = createCubbyServer({ logger: null, ...options, dataDir })
  const { url } = await cubby.listen({ port: 0, host: '127.0.0.1' })
  return {
    cubby, url, dataDir, wsUrl: `${url.replace('http', 'ws')}/v1/sync`,
    async [Symbol.asyncDispose]() {
      await cubby.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
