import { tabPlatform } from '../tabs/TabGroup.js'
import { type TabEnvelope, tabGroupName } from '../tabs/TabMessage.js'
import { randomClientId } from '../sync/randomClientId.js'

/**
 * Tells the other tabs of the anonymous user (same app name) that it is gone: they drop it and close.
 *
 * @internal
 */
export function announceToTabs(name: string, anonymous: string): void {
  const platform = tabPlatform()
  if (!platform) return
  const channel = new platform.BroadcastChannel(tabGroupName(name, anonymous))
  const body = { type: 'gone', code: 'CLOSED', message: 'Signed in to an account in another tab: load the client again with its auth' } as const
  channel.postMessage({ from: randomClientId(), leader: true, body } satisfies TabEnvelope)
  channel.close()
}
