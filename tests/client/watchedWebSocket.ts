import { WebSocket } from 'ws'

/** A server frame as a test reads it. */
export type SeenFrame = { type: string; changes?: Array<{ key?: string }> }

/** A WebSocket class that counts the sockets opened with it and keeps every frame the server sent them, parsed. */
export function watchedWebSocket(): { WebSocket: typeof globalThis.WebSocket; opened: () => number; frames: SeenFrame[] } {
  let opened = 0
  const frames: SeenFrame[] = []
  class Watched extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      opened++
      this.addEventListener('message', (event) => frames.push(JSON.parse(event.data as string) as SeenFrame))
    }
  }
  return { WebSocket: Watched as unknown as typeof globalThis.WebSocket, opened: () => opened, frames }
}
