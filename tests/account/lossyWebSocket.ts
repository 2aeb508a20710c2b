import { WebSocket } from 'ws'

/**
 * A WebSocket class that can lose the next `ack` the server sends: the server applied the write, the client never
 * hears of it, and `lost` runs instead (a test cuts the connection there).
 */
export function lossyWebSocket(): { WebSocket: typeof globalThis.WebSocket; loseNextAck: (lost: () => void) => void } {
  let onLoss: (() => void) | undefined
  const setter = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!
  class Lossy extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      Object.defineProperty(this, 'onmessage', {
        get: () => setter.get!.call(this) as unknown,
        set: (handler: ((event: { data: unknown }) => void) | null) =>
          setter.set!.call(this, handler && ((event: { data: unknown }) => {
            const lost = onLoss
            if (lost && (JSON.parse(String(event.data)) as { type: string }).type === 'ack') {
              onLoss = undefined
              return lost()
            }
            handler(event)
          })),
      })
    }
  }
  return { WebSocket: Lossy as unknown as typeof globalThis.WebSocket, loseNextAck: (lost) => (onLoss = lost) }
}
