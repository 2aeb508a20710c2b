import type { CubbyError, ServerMessage } from '@cubby/protocol'

/**
 * Whatever carries frames between this client and the server: the WebSocket ({@link SyncConnection}), or a
 * follower tab's channel to the tab that leads ({@link TabUplink}). It runs from {@link start} to {@link stop}
 * and reports to its {@link UplinkSink}. Not part of the public API; its declaration ships because the
 * declarations of the sync classes import it.
 */
export interface Uplink {
  /** Starts carrying frames, and keeps at it (reconnecting, or following the next leader) until {@link stop}. */
  start(): void
  /** Stops carrying frames. */
  stop(): void
  /** Skips a wait before the next attempt (the network or the page came back). */
  retryNow(): void
}

/** What a {@link SyncConnection} reports to: the {@link Link} that chose it. Not part of the public API. */
export interface UplinkSink {
  /** A frame of this client's own session. */
  frame(message: ServerMessage): void
  /** A socket opened (`connecting`) or closed (`offline`); `error`: why it cannot connect, when the uplink found out. */
  state(status: 'connecting' | 'offline', error?: CubbyError): void
  /** The session ended: whatever was sent on it and not acknowledged must be sent again. */
  closed(): void
  /** `stopped`: the uplink stopped because of this error and does not retry by itself. */
  error(error: CubbyError, stopped?: boolean): void
  /** The server deleted the user (close 4010); the uplink has stopped. */
  userDeleted(): void
}
