import { useCubbyClient } from '@cubby/react'
import { useState } from 'react'
import { type Identity, deviceLink, storeIdentity } from './identity.js'

/** Who this is (anonymous by default) and the link that opens the same user on another device. */
export function DevicePanel({ identity }: { identity: Identity }) {
  const cubby = useCubbyClient()
  const [copied, setCopied] = useState(false)
  const link = deviceLink(identity)

  const copy = async () => {
    await navigator.clipboard?.writeText(link)
    setCopied(true)
  }
  const startOver = async () => {
    if (!confirm('Forget this user on this device and start as a new anonymous user?')) return
    await cubby?.signOut({ discardPending: true })
    storeIdentity(undefined)
    location.reload()
  }

  return (
    <section className="card devices" data-testid="devices">
      <h2>Your devices</h2>
      <p>
        You are <code data-testid="user-id">{identity.userId}</code>, an anonymous user kept in this browser.
      </p>
      <p>Open this link on another device (or in another browser) to use the same data there:</p>
      <div className="device-link">
        <input readOnly value={link} aria-label="Link for another device" data-testid="device-link" onFocus={(e) => e.target.select()} />
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p className="hint">The link holds your access token: share it only with yourself.</p>
      <button type="button" className="secondary" onClick={() => void startOver()}>
        Start over as a new user
      </button>
    </section>
  )
}
