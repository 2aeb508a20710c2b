import type { Change } from '@cubby/protocol'
import type { ChangeBus, ChangeBusListener, UserEvent } from '../sync/ChangeBus.js'

/** Nodes of one in-process bus, for tests of several servers on one storage. @internal */
export interface MemoryBusNetwork {
  /** A bus for one more node. */
  node(): MemoryBus
  /** Lose every other `changes` message from now on (the way a broken connection would). */
  loseEveryOther(): void
  /** How many `changes` messages were lost. */
  readonly lost: number
}

/** One node's bus; `reconnect()` acts as if its connection broke and came back. @internal */
export interface MemoryBus extends ChangeBus {
  reconnect(): void
}

/**
 * A {@link ChangeBus} between servers in one process. Messages arrive asynchronously (a later task), like on a
 * real bus, and each node hears only the users it subscribed to. @internal
 */
export function createMemoryBusNetwork(): MemoryBusNetwork {
  const nodes = new Set<{ listener?: ChangeBusListener; users: Set<string> }>()
  let lossy = false
  let sent = 0
  let lost = 0
  return {
    get lost() {
      return lost
    },
    loseEveryOther() {
      lossy = true
    },
    node() {
      const self: { listener?: ChangeBusListener; users: Set<string> } = { users: new Set() }
      nodes.add(self)
      const others = (): typeof self[] => [...nodes].filter((n) => n !== self)
      return {
        listen(listener) {
          self.listener = listener
        },
        publish(userId: string, changes: readonly Change[]) {
          if (lossy && sent++ % 2 === 0) {
            lost++
            return
          }
          const copy = structuredClone(changes)
          setImmediate(() => {
            for (const n of others()) if (n.users.has(userId)) n.listener?.changes(userId, copy)
          })
        },
        async publishUserEvent(userId: string, event: UserEvent) {
          setImmediate(() => {
            for (const n of others()) n.listener?.userEvent(userId, event)
          })
        },
        async publishDeviceRevoked(userId: string, deviceId: string) {
          setImmediate(() => {
            for (const n of others()) n.listener?.deviceRevoked(userId, deviceId)
          })
        },
        subscribe(userId) {
          self.users.add(userId)
          setImmediate(() => self.listener?.resync(userId))
        },
        unsubscribe(userId) {
          self.users.delete(userId)
        },
        reconnect() {
          self.listener?.resync()
        },
        async close() {
          nodes.delete(self)
        },
      }
    },
  }
}
