import { PROTOCOL_VERSION, SYNC_PATH } from '@cubby/protocol'
import { WebSocket } from 'ws'

type Frame = Record<string, unknown> & { type: string }

/** A bare WebSocket to the sync endpoint that records every frame the server sends, for protocol tests. */
export interface RawSocket extends AsyncDisposable {
  readonly ws: WebSocket
  /** Every parsed frame received so far. */
  readonly frames: Frame[]
  /** Sends a string (or binary) frame as is; objects are JSON-encoded. */
  send(frame: string | Buffer | object): void
  /** Sends `hello` with this token and cursor. */
  hello(token: string, cursor?: number): void
  /** Resolves with the first frame (from `from` on) of the given type that matches `where`; rejects after 10 s. */
  next(type: string, where?: (frame: Frame) => boolean, from?: number): Promise<Frame>
  /** Resolves with the close code once the server closes the socket. */
  readonly closed: Promise<number>
}

/**
 * Opens a WebSocket to `${url}/v1/sync` and waits until it is open.
 *
 * @example
 * ```ts
 * await using raw = await openRawSocket(server.url)
 * raw.hello(server.token('alice'))
 * await raw.next('synced')
 * ```
 */
export async function openRawSocket(url: string): Promise<RawSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + SYNC_PATH)
  const frames: Frame[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data, isBinary) => {
    if (isBinary) return
    frames.push(JSON.parse((data as Buffer).toString()) as Frame)
    for (const wake of waiters) wake()
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const next = (type: string, where: (f: Frame) => boolean = () => true, from = 0): Promise<Frame> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = frames.slice(from).find((f) => f.type === type && where(f))
        if (found) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        return found !== undefined
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no '${type}' frame within 10 s; got ${JSON.stringify(frames).slice(0, 2000)}`))
      }, 10_000)
      if (!check()) waiters.add(check)
    })
  return {
    ws,
    frames,
    closed,
    next,
    send: (frame) => ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    hello: (token, cursor = 0) => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token, cursor })),
    [Symbol.asyncDispose]: async () => {
      if (ws.readyState === WebSocket.CLOSED) return
      ws.terminate()
      await closed
    },
  }
}
