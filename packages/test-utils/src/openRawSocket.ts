import { PROTOCOL_VERSION, SYNC_PATH, type ServerMessage } from '@cubby/protocol'
import { type ClientOptions, WebSocket } from 'ws'

/** A server message of one type. */
type MessageOf<TType extends ServerMessage['type']> = Extract<ServerMessage, { type: TType }>

/** Options of {@link openRawSocket}. */
export interface RawSocketOptions {
  /** The path to open. @default SYNC_PATH (`/v1/sync`) */
  path?: string
  /** Options for the `ws` client, e.g. `headers`. @default {} */
  ws?: ClientOptions
}

/** Options of {@link RawSocket.next}. */
export interface NextOptions {
  /** The index of the first frame to look at. @default 0 */
  from?: number
  /** How long to wait before rejecting. @default 10_000 */
  timeoutMs?: number
}

/** What a failed wait tells: frames can be a MiB each, so never the frames themselves. */
function summary(frames: readonly ServerMessage[]): string {
  const counts = new Map<string, number>()
  let rev: number | undefined
  for (const f of frames) {
    counts.set(f.type, (counts.get(f.type) ?? 0) + 1)
    if ('rev' in f && typeof f.rev === 'number') rev = f.rev
  }
  return `got ${frames.length} frames (${[...counts].map(([type, n]) => `${n} ${type}`).join(', ')}), last rev seen ${rev ?? 'none'}`
}

/** A bare WebSocket to the sync endpoint that records every frame the server sends, for protocol tests. */
export interface RawSocket extends AsyncDisposable {
  readonly ws: WebSocket
  /** Every parsed frame received so far. */
  readonly frames: ServerMessage[]
  /** Sends a string (or binary) frame as is; anything else JSON-encoded. */
  send(frame: unknown): void
  /** Sends `hello` with this token and cursor, plus `extra` fields such as `echo`. */
  hello(token: string, cursor?: number, extra?: Record<string, unknown>): void
  /**
   * Resolves with the first frame (from index `from` on) of the given type that matches `where`; rejects after
   * `timeoutMs` (default 10 s), or as soon as the socket closed without one, with how many frames came and the
   * last `rev` seen. A number as the third argument is `from`.
   */
  next<TType extends ServerMessage['type']>(type: TType, where?: (frame: MessageOf<TType>) => boolean, options?: number | NextOptions): Promise<MessageOf<TType>>
  /** Resolves with the close code once the socket closed. */
  readonly closed: Promise<number>
  /**
   * Resolves with the close code once the socket closed; rejects after `timeoutMs` with what the socket got and
   * how much it still has to send, so a wait for a close the server never made fails instead of hanging.
   */
  closedWithin(timeoutMs: number): Promise<number>
}

/**
 * Opens a WebSocket to the sync endpoint of the server at `url` (`http://…`) and waits until it is open.
 *
 * @example
 * ```ts
 * await using raw = await openRawSocket(server.url)
 * raw.hello(server.token('alice'))
 * await raw.next('synced')
 * ```
 */
export async function openRawSocket(url: string, options: RawSocketOptions = {}): Promise<RawSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + (options.path ?? SYNC_PATH), options.ws)
  const frames: ServerMessage[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data, isBinary) => {
    if (isBinary) return
    frames.push(JSON.parse((data as Buffer).toString()) as ServerMessage)
    for (const wake of waiters) wake()
  })
  let closeCode: number | undefined
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => {
    closeCode = code
    resolve(code)
    for (const wake of waiters) wake()
  }))
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const next = <TType extends ServerMessage['type']>(type: TType, where: (f: MessageOf<TType>) => boolean = () => true, options: number | NextOptions = {}): Promise<MessageOf<TType>> =>
    new Promise((resolve, reject) => {
      const { from = 0, timeoutMs = 10_000 } = typeof options === 'number' ? { from: options } : options
      const check = (): boolean => {
        const found = frames.slice(from).find((f): f is MessageOf<TType> => f.type === type && where(f as MessageOf<TType>))
        if (found === undefined && closeCode === undefined) return false
        waiters.delete(check)
        clearTimeout(timer)
        if (found) resolve(found)
        else reject(new Error(`no matching '${type}' frame: the socket closed (${closeCode}); ${summary(frames)}`))
        return true
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching '${type}' frame within ${timeoutMs / 1000} s; ${summary(frames)}`))
      }, timeoutMs)
      if (!check()) waiters.add(check)
    })
  const closedWithin = async (timeoutMs: number): Promise<number> => {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no close within ${timeoutMs / 1000} s (${ws.bufferedAmount} bytes unsent); ${summary(frames)}`)), timeoutMs)
    })
    try {
      return await Promise.race([closed, late])
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    ws,
    frames,
    closed,
    closedWithin,
    next,
    send: (frame) => ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    hello: (token, cursor = 0, extra = {}) => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token, cursor, ...extra })),
    [Symbol.asyncDispose]: async () => {
      if (ws.readyState === WebSocket.CLOSED) return
      ws.terminate()
      await closed
    },
  }
}

/** What {@link connectUser} needs of a server: both test servers have it. */
export interface TokenServer {
  readonly url: string
  token(userId: string): string | Promise<string>
}

/**
 * Opens a socket for `userId`, says hello (with `extra` fields, such as `echo: false`) and waits for `synced`.
 *
 * @example
 * ```ts
 * await using socket = await connectUser(server, 'alice', { cursor: 2 })
 * ```
 */
export async function connectUser(server: TokenServer, userId: string, hello: { cursor?: number; echo?: boolean } = {}): Promise<RawSocket> {
  const { cursor = 0, ...extra } = hello
  const socket = await openRawSocket(server.url)
  socket.hello(await server.token(userId), cursor, extra)
  await socket.next('synced')
  return socket
}
