import type { Cubby } from '@cubby/client'
import type { DemoSchema } from './schema.js'

/** Where this device's data waits, across the reload, to be stored for the new user. */
const CARRY_KEY = 'cubby-demo/carry'

/** Every key and value this device holds for the user (synced or not), as a JSON download. */
export async function downloadData(cubby: Cubby<DemoSchema>): Promise<void> {
  const url = URL.createObjectURL(new Blob([JSON.stringify(await cubby.entries(), null, 2)], { type: 'application/json' }))
  const a = Object.assign(document.createElement('a'), { href: url, download: 'cubby-demo-data.json' })
  a.click()
  URL.revokeObjectURL(url)
}

/**
 * Starts over as a new anonymous user: with `keep`, everything this device shows (pending writes included) is
 * set aside, and stored for the new user after the reload (see {@link restoreCarried}); without, it is dropped.
 */
export async function startOver(cubby: Cubby<DemoSchema>, keep: boolean): Promise<void> {
  if (keep) localStorage.setItem(CARRY_KEY, JSON.stringify(await cubby.entries()))
  // Signing out deletes the stored identity too: the reload makes a new one.
  await cubby.signOut({ discardPending: true })
  location.reload()
}

/** Stores what {@link startOver} set aside, for the new user; it is forgotten once durable in the outbox. */
export async function restoreCarried(cubby: Cubby<DemoSchema>): Promise<void> {
  const carried = localStorage.getItem(CARRY_KEY)
  if (carried === null) return
  await cubby.storeMany(JSON.parse(carried) as Parameters<Cubby<DemoSchema>['storeMany']>[0])
  localStorage.removeItem(CARRY_KEY)
}
