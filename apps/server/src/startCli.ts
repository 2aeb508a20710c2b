import { resolve } from 'node:path'
import { createCubbyServer, type CubbyServer, type CubbyServerOptions } from '@cubby/server'
import type { CliOptions } from './parseCliOptions.js'

/** A started `cubby-server`. */
export interface StartedCli {
  cubby: CubbyServer
  url: string
}

/**
 * Starts the server the CLI options describe and prints where it listens: exactly one line
 * `cubby-server listening on http://HOST:PORT` (tools parse it), then the data dir.
 */
export async function startCli(options: CliOptions, print: (line: string) => void): Promise<StartedCli> {
  const dataDir = resolve(options.dataDir)
  const serverOptions: CubbyServerOptions = { ...options.server, dataDir, limits: options.limits }
  if (options.secret !== undefined) serverOptions.secret = options.secret
  const cubby = createCubbyServer(serverOptions)
  try {
    const listen = options.staticDir === undefined ? {} : { staticDir: resolve(options.staticDir) }
    const { url } = await cubby.listen({ ...listen, host: options.host, port: options.port })
    print(`cubby-server listening on ${url}`)
    print(`data dir: ${dataDir}`)
    return { cubby, url }
  } catch (error) {
    await cubby.close()
    throw error
  }
}
