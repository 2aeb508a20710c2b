import type { ServerMessage } from '@cubby/protocol'
import { vi } from 'vitest'
import { WebSocket, type ClientOptions } from 'ws'

/** A plain `ws` client that records every server message, for protocol-level tests. */
export interface RawSocket extends AsyncDisposable {
  ws: WebSocket
  /** Every message received so far, parsed. */
  messages: ServerMessage[]
  /** Resolves with the close code and reason once the socket closed. */
  closed: Promise<{ code: number; reason: string }>
  send(frame: unknown): void
  /** Waits for the first message of a type (optionally matching `where`) and returns it. */
  waitFor<TType extends ServerMessage['type']>(type: TType, where?: (m: Extract<ServerMessage, { type: TType }>) => boolean): Promise<Extract<ServerMessage, { type: TType }>>
}

/** Opens a socket and waits until it is open. */
export async function openRawSocket(url: string, options: ClientOptions = {}): Promise<RawSocket> {
  const ws = new WebSocket(url, options)
  const messages: ServerMessage[] = []
  ws.on('message', (data) => messages.push(JSON.parse((data as Buffer).toString()) as ServerMessage))
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return {
    ws, messages, closed,
    send: (frame) => ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    waitFor: (type, where = () => true) => vi.waitFor(() => {
      const found = messages.find((m) => m.type === type && where(m as never))
      if (found === undefined) throw new Error(`No ${type} message yet; got ${JSON.stringify(messages).slice(0, 500)}`)
      return found as never
    }, { timeout: 10_000 }),
    async [Symbol.asyncDispose]() {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate()
      await closed
    },
  }
}

/** Opens a socket for `userId`, says hello (with `extra` fields, such as `echo`) and waits for `synced`. */
export async function connectUser(
  server: { cubby: { issueToken(u: string): Promise<string> }; wsUrl: string },
  userId: string,
  cursor = 0,
  extra: { echo?: boolean } = {},
): Promise<RawSocket> {
  const socket = await openRawSocket(server.wsUrl)
  socket.send({ type: 'hello', v: 1, token: await server.cubby.issueToken(userId), cursor, ...extra })
  await socket.waitFor('synced')
  return socket
}
