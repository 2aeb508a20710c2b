import type { AckMessage, CubbyErrorCode, ServerMessage } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import type { CubbyStatus } from '../CubbyEventMap.js'

/**
 * What the tabs of one (name, user) tell each other over their BroadcastChannel. Followers send `writes` and
 * `join` to the leader; the leader sends everything else, in one ordered stream, each server frame only once
 * the cache holds it (so a tab that starts listening and then reads the cache misses nothing).
 *
 * @internal
 */
export type TabMessage =
  /** To the leader: writes durable in the shared outbox, to send to the server. */
  | { type: 'writes'; entries: OutboxEntry[] }
  /** To the leader: a tab started listening; answer with `state`. */
  | { type: 'join' }
  /** From the leader: a server frame it applied and persisted. */
  | { type: 'frame'; message: ServerMessage }
  /** From the leader: writes of the tabs, in the order the leader sends them. */
  | { type: 'relay'; entries: OutboxEntry[] }
  /** From the leader: its connection state, and acks of writes still in its overlay (for a joining tab). */
  | { type: 'state'; status: CubbyStatus; acks: AckMessage[] }
  /** The user's local data is gone (signed out in a tab, or deleted on the server): drop it and close. */
  | { type: 'gone'; code: CubbyErrorCode; message: string }

/** A {@link TabMessage} with its sender. @internal */
export interface TabEnvelope {
  from: string
  leader: boolean
  body: TabMessage
}

/**
 * The BroadcastChannel and Web Lock names of one (name, user): both are part of it, so that two clients of
 * different apps or users never hear each other.
 *
 * @internal
 */
export const tabGroupName = (name: string, userId: string): string => `cubby-tabs:${JSON.stringify([name, userId])}`
