import type { MergeAnswer, MergePreference } from '@cubby/protocol'
import type { UserAdmin } from '../admin/UserAdmin.js'
import type { Change } from '@cubby/protocol'
import { CATCH_UP_PAGE_BYTES, type CubbyStorage } from '../storage/CubbyStorage.js'
import type { ChangeBus } from '../sync/ChangeBus.js'
import type { SyncHub } from '../sync/SyncHub.js'
import type { DeletionMarkers } from './DeletionMarkers.js'

/**
 * The last changes of a merge whose values fit in `maxBytes` (at least the last one). Sessions that get only these
 * see a gap before them and read the rest from storage at the pace their socket drains, so a merge of a large
 * user never goes out as one huge frame or pub/sub message.
 */
function tailWithin(changes: readonly Change[], maxBytes: number): readonly Change[] {
  let bytes = 0
  let from = changes.length
  while (from > 0) {
    const change = changes[from - 1]!
    bytes += 'value' in change ? change.value.length : 0
    if (bytes > maxBytes && from < changes.length) break
    from--
  }
  return changes.slice(from)
}

/** What {@link AccountMerger} works with. @internal */
export interface AccountMergerOptions {
  storage: CubbyStorage
  hub: SyncHub
  markers: DeletionMarkers
  admin: UserAdmin
  bus?: ChangeBus | undefined
}

/**
 * Runs an authorised merge: the storage's one atomic step, then the account's live sessions get the new changes
 * (on every node, through the bus; beyond about a catch-up page of values, only the last ones, and the sessions read
 * the rest from storage), and the anonymous user's sessions end as after a deletion (`user-deleted`, close
 * 4010; other nodes are told too). Token checks of the anonymous user wait for the merge, so none passes on a
 * deletion marker cached from before it.
 * @internal
 */
export class AccountMerger {
  readonly #options: AccountMergerOptions

  constructor(options: AccountMergerOptions) {
    this.#options = options
  }

  /** @throws CubbyError `QUOTA_EXCEEDED` or `UNAUTHORIZED` from the storage (nothing changed). */
  async merge(anonymous: string, account: string, prefer: MergePreference, authorizedAt: number): Promise<MergeAnswer> {
    const { storage, hub, markers, admin, bus } = this.#options
    const result = await markers.changing(anonymous, () => storage.mergeUser(anonymous, account, { prefer, authorizedAt }))
    if (result.changes.length > 0) hub.publish(account, tailWithin(result.changes, CATCH_UP_PAGE_BYTES))
    admin.endUser(anonymous, 'deleted')
    await bus?.publishUserEvent(anonymous, 'deleted')
    return { account, anonymous, head: result.head, written: result.changes.length, conflicts: result.conflicts, clients: result.clients }
  }
}
