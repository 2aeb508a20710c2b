import { useCubbyStatus } from '@cubby/react'
import { useRefused } from './useRefused.js'

const LABELS = { online: 'Online', offline: 'Offline', connecting: 'Connecting…' } as const

/** Online, offline or connecting, how many writes wait for the server, and the latest background error. */
export function ConnectionBadge() {
  const { status, pendingCount, error } = useCubbyStatus()
  const refused = useRefused() !== undefined
  return (
    <div className="connection" data-testid="connection" data-status={status} data-refused={refused} data-pending={pendingCount}>
      <span className={`dot dot-${refused ? 'offline' : status}`} aria-hidden="true" />
      <span>{refused ? 'Not accepted by the server' : LABELS[status]}</span>
      {pendingCount > 0 && <span className="pending-count">{pendingCount} pending</span>}
      {error && (
        <span className="error" title={error.message}>
          {error.code}
        </span>
      )}
    </div>
  )
}
