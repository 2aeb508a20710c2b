import { useCubbyClient, useCubbyStatus } from '@cubby/react'
import { startOver } from './startOver.js'

/** Who this is: an anonymous user whose key this browser made and keeps. Linking devices comes with link codes. */
export function DevicePanel() {
  const cubby = useCubbyClient()
  // Re-renders on status events: `cubby.userId` and `cubby.tabs` are known once the client has loaded.
  useCubbyStatus()
  const forget = async () => {
    if (!cubby || !confirm('Forget this user on this device (changes not yet on the server are lost) and start as a new anonymous user?')) return
    await startOver(cubby, false)
  }

  return (
    <section className="card devices" data-testid="devices">
      <h2>Your devices</h2>
      <p>
        You are <code data-testid="user-id">{cubby?.userId ?? '…'}</code>, an anonymous user whose key this browser made
        and keeps: it works offline from the first visit.
      </p>
      <p className="hint" data-testid="link-codes">
        Using the same data on another device comes with link codes: a short code from this device, typed on the other.
        Until then, clearing this site's data in the browser loses this user.
      </p>
      {cubby?.tabs === 'independent' && !isSecureContext && (
        <p className="notice" data-testid="insecure-notice">
          This page is plain http on another host (no secure context): the server gave this browser its identity, and
          each tab keeps its own connection.
        </p>
      )}
      <button type="button" className="secondary" onClick={() => void forget()}>
        Start over as a new user
      </button>
    </section>
  )
}
