import { createConnection, createServer, type Socket } from 'node:net'

/** A loopback TCP proxy (see {@link startTcpForwarder}). */
export interface TcpForwarder extends AsyncDisposable {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number
  /** Connections open through it now. */
  readonly connections: number
  /** Bytes received from clients so far (all connections), e.g. to wait until a request has gone through. */
  readonly bytesFromClients: number
  /** Sends new connections to another port on 127.0.0.1; open ones stay where they are. */
  retarget(port: number): void
  /** Destroys every open connection (both ends), as a network cut would; new ones are accepted. */
  cutAll(): void
  /** Cuts every connection and stops listening. */
  close(): Promise<void>
}

/**
 * Listens on a free port of 127.0.0.1 and forwards each connection to `targetPort` on 127.0.0.1, so that a test
 * can move a client to another server or cut its connections without touching the client.
 *
 * @example
 * ```ts
 * await using forwarder = await startTcpForwarder(redis.port)
 * forwarder.cutAll()
 * ```
 */
export async function startTcpForwarder(targetPort: number): Promise<TcpForwarder> {
  let target = targetPort
  let bytesFromClients = 0
  const pairs = new Set<[Socket, Socket]>()
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: target })
    const pair: [Socket, Socket] = [inbound, outbound]
    pairs.add(pair)
    const end = (): void => {
      pairs.delete(pair)
      inbound.destroy()
      outbound.destroy()
    }
    for (const socket of pair) socket.once('close', end).once('error', end)
    inbound.on('data', (chunk: Buffer) => { bytesFromClients += chunk.length })
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('the forwarder has no port')
  const cutAll = (): void => {
    for (const [inbound, outbound] of pairs) {
      inbound.destroy()
      outbound.destroy()
    }
    pairs.clear()
  }
  const close = async (): Promise<void> => {
    cutAll()
    if (!server.listening) return
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return {
    port: address.port,
    get connections() { return pairs.size },
    get bytesFromClients() { return bytesFromClients },
    retarget(port) { target = port },
    cutAll,
    close,
    [Symbol.asyncDispose]: close,
  }
}
