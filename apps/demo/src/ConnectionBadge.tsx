import { useCubbyStatus } from '@cubby/react'

const LABELS = { online: 'Online', offline: 'Offline', connecting: 'Connecting…' } as const

/** Online, offline or connecting, how many writes wait for the server, and the latest background error. */
export function ConnectionBadge() {
  const { status, pendingCount, error } = useCubbyStatus()
  return (
    <div className="connection" data-testid="connection" data-status={status} data-pending={pendingCount}>
      <span className={`dot dot-${status}`} aria-hidden="true" />
      <span>{LABELS[status]}</span>
      {pendingCount > 0 && <span className="pending-count">{pendingCount} pending</span>}
      {error && (
        <span className="error" title={error.message}>
          {error.code}
        </span>
      )}
    </div>
  )
}
