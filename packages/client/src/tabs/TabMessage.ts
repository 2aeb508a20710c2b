import type { AckMessage, CubbyErrorCode, ServerMessage, UnauthorizedReason } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import type { CubbyStatus, StopReason } from '../CubbyEventMap.js'

/**
 * What the tabs of one (name, user) tell each other over their BroadcastChannel. A tab `join`s as soon as it
 * starts listening (before it reads the cache) and says `leave` when it stops; the leader posts only while at
 * least one tab has joined, and answers each `join` with `joined`, which lets the new tab catch up with
 * whatever it may have missed between its read of the cache and the leader hearing of it. Followers send
 * `writes`, `join` and `leave` to the leader; the leader sends everything else, in one ordered stream, each
 * server frame only once the cache holds it.
 *
 * @internal
 */
export type TabMessage =
  /** To the leader: writes durable in the shared outbox, to send to the server. */
  | { type: 'writes'; entries: OutboxEntry[] }
  /** To the leader: a tab listens now (and holds its presence lock, see {@link tabPresenceName}); answer with `joined`. */
  | { type: 'join' }
  /** To the leader: a tab stopped listening. */
  | { type: 'leave' }
  /** From a new leader: every tab that listens joins again (the new leader knows of none). */
  | { type: 'lead' }
  /**
   * From the leader, for the tab `to` that joined: the leader's connection state, its cursor, its overlay
   * (durable writes, and acks of those acknowledged) and its server clock offset, each as of a moment when the cache holds everything the
   * leader did not relay before it heard of the tab.
   */
  | { type: 'joined'; to: string; status: CubbyStatus; error?: TabError; cursor: number; writes: OutboxEntry[]; acks: AckMessage[]; clockOffset: number }
  /** From the leader: the offset of the server's clock it learnt from a `welcome` (server minus device, ms). */
  | { type: 'clock'; offset: number }
  /** From the leader: a server frame it applied and persisted. */
  | { type: 'frame'; message: ServerMessage }
  /** From the leader: writes of the tabs, in the order the leader sends them. */
  | { type: 'relay'; entries: OutboxEntry[] }
  /** From the leader: its connection state, with why it cannot connect when it found out: a wrong base path. */
  | { type: 'state'; status: CubbyStatus; error?: TabError }
  /** From the leader: the server refused it for good (`reason` as in the `error` event's `stopped`); it stays offline. */
  | { type: 'stopped'; code: CubbyErrorCode; message: string; reason: StopReason; unauthorized?: UnauthorizedReason }
  /** The user's local data is gone (signed out in a tab, or deleted on the server): drop it and close. */
  | { type: 'gone'; code: CubbyErrorCode; message: string }

/** A {@link CubbyError} as it crosses the BroadcastChannel (a structured clone keeps no subclass nor `code`). @internal */
export interface TabError {
  code: CubbyErrorCode
  message: string
}

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

/**
 * The Web Lock a listening tab holds while it listens: the leader asks for it, and is granted it when the tab
 * has gone, closed or crashed, without a `leave`.
 *
 * @internal
 */
export const tabPresenceName = (group: string, tabId: string): string => `${group}:tab:${tabId}`
