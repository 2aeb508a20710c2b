import { CLOSE_CODES, CubbyError, type CubbyLimits } from '@cubby/protocol'
import type { DeletionMarkers } from '../auth/DeletionMarkers.js'
import type { DeviceLinks } from '../auth/DeviceLinks.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import type { ImportResult, UserRecord, UserSummary } from '../storage/UserRecord.js'
import type { ChangeBus, UserEvent } from '../sync/ChangeBus.js'
import type { SyncHub } from '../sync/SyncHub.js'
import { assertUserId } from '../writes/validateMutation.js'

/**
 * What an operator may do to a user's data: list users, export, import, delete (with the user's devices and link
 * codes). Deleting tells the user's live
 * sessions (`user-deleted`, then close 4010) and revokes the user's tokens issued until then (the storage's deletion
 * marker); importing lifts that and makes live sessions reconnect to catch up (close 4012). With a change bus, the
 * other nodes do the same to their sessions and caches (see {@link endUser}).
 * @internal
 */
export class UserAdmin {
  readonly #storage: CubbyStorage
  readonly #hub: SyncHub
  readonly #limits: CubbyLimits
  readonly #ready: () => Promise<void>
  readonly #markers: DeletionMarkers
  readonly #bus: ChangeBus | undefined
  readonly #devices: DeviceLinks | undefined

  constructor(options: {
    storage: CubbyStorage; hub: SyncHub; limits: CubbyLimits; ready: () => Promise<void>; markers: DeletionMarkers; bus?: ChangeBus; devices?: DeviceLinks
  }) {
    this.#storage = options.storage
    this.#devices = options.devices
    this.#bus = options.bus
    this.#markers = options.markers
    this.#hub = options.hub
    this.#limits = options.limits
    this.#ready = options.ready
  }

  async users(options: { after?: string; limit: number }): Promise<UserSummary[]> {
    await this.#ready()
    return this.#storage.users(options)
  }

  async usersUnusedSince(options: { before: number; after?: string; limit: number }): Promise<string[]> {
    await this.#ready()
    return this.#storage.usersUnusedSince(options)
  }

  async *exportUser(userId: string): AsyncGenerator<UserRecord> {
    assertUserId(userId, this.#limits)
    await this.#ready()
    yield* this.#storage.exportUser(userId)
  }

  async importUser(userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult> {
    assertUserId(userId, this.#limits)
    await this.#ready()
    let result: ImportResult
    try {
      result = await this.#storage.importUser(userId, this.#renamed(userId, records))
    } finally {
      // The marker goes only at the import's end: until then a cached marker only refuses what storage refuses too.
      this.#markers.forget(userId)
    }
    this.endUser(userId, 'replaced')
    await this.#bus?.publishUserEvent(userId, 'replaced')
    return result
  }

  async deleteUser(userId: string): Promise<boolean> {
    assertUserId(userId, this.#limits)
    await this.#ready()
    // Token checks of the user wait for the deletion, so none passes on a marker cached from before it.
    const existed = await this.#markers.changing(userId, () => this.#storage.deleteUser(userId))
    // After the marker: a device linked while this ran is refused by it (see TokenAuth), and a retry removes it.
    await this.#devices?.deleteUser(userId)
    this.endUser(userId, 'deleted')
    await this.#bus?.publishUserEvent(userId, 'deleted')
    return existed
  }

  /** Ends the user's sessions on this node after a deletion or import (here, or on another node). */
  endUser(userId: string, event: UserEvent): void {
    this.#markers.forget(userId)
    if (event === 'deleted') this.#hub.end(userId, { type: 'user-deleted' }, CLOSE_CODES.USER_DELETED, 'The user was deleted')
    else this.#hub.end(userId, undefined, CLOSE_CODES.RESYNC, 'The user\'s data was replaced; reconnect')
  }

  /** An export of one user may be imported as another: the header's user id gives way to the target's. */
  async *#renamed(userId: string, records: AsyncIterable<UserRecord>): AsyncGenerator<UserRecord> {
    for await (const r of records) {
      if (r.type === 'user' && typeof r.userId !== 'string') throw new CubbyError('BAD_MESSAGE', 'bad user line')
      yield r.type === 'user' ? { ...r, userId } : r
    }
  }
}
