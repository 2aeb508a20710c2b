import { useCubbyClient, useCubbyStatus } from '@cubby/react'
import { downloadData, startOver } from './startOver.js'
import { useRefused } from './useRefused.js'

/** What happened when the server no longer accepts this browser's identity, and the ways out. */
export function RefusedBanner() {
  const cubby = useCubbyClient()
  const { pendingCount } = useCubbyStatus()
  const refused = useRefused()
  if (refused === undefined || !cubby) return null
  return (
    <section className="card refused" role="alert" data-testid="refused" data-reason={refused.revoked ? 'revoked' : 'refused'}>
      <h2>{refused.revoked ? 'This browser was removed from your devices' : 'The server no longer accepts this browser'}</h2>
      <p>
        {refused.revoked
          ? 'Another of your devices revoked this one: its key is refused from now on.'
          : `It refused this browser's identity (${refused.message}): most likely its data was reset.`}{' '}
        Nothing here syncs any more.
        What this page shows is only on this device
        {pendingCount > 0 && <>, including {pendingCount === 1 ? '1 change' : `${pendingCount} changes`} that never reached the server</>}.
      </p>
      <p>Start over as a new user to sync again: everything shown here is kept, and uploaded as the new user's data.</p>
      <div className="actions">
        <button type="button" data-testid="start-over-keep" onClick={() => void startOver(cubby, true)}>
          Start over, keeping this data
        </button>
        <button type="button" className="secondary" onClick={() => void downloadData(cubby)}>
          Download this data (JSON)
        </button>
      </div>
    </section>
  )
}
