import type { CubbyDevice } from '@cubby/client'
import { useCubbyClient } from '@cubby/react'
import { useState } from 'react'

const when = (ms: number): string => new Date(ms).toLocaleString()

/** One device: its label and dates, and a revoke button that asks once more (never on this device itself). */
function DeviceRow({ device, onRevoked }: { device: CubbyDevice; onRevoked: () => void }) {
  const cubby = useCubbyClient()
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string>()
  const revoke = async () => {
    try {
      await cubby!.devices.revoke(device.id)
      onRevoked()
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
  }
  const revoked = device.revokedAt !== undefined
  return (
    <li className="device" data-testid="device" data-id={device.id} data-label={device.label} data-current={device.current} data-revoked={revoked}>
      <span className="device-label">
        {device.label || (device.createdAt === 0 ? 'The first browser of this user' : 'A device')}
        {device.current && <strong> (this browser)</strong>}
      </span>
      <span className="device-details">
        {device.createdAt > 0 && <>linked {when(device.createdAt)}</>}
        {device.lastSeen !== undefined && <> · last seen {when(device.lastSeen)}</>}
        {revoked && <> · revoked {when(device.revokedAt!)}</>}
      </span>
      {!device.current && !revoked && !confirming && (
        <button type="button" className="secondary" data-testid="revoke" onClick={() => setConfirming(true)}>
          Revoke
        </button>
      )}
      {confirming && !revoked && (
        <button type="button" data-testid="revoke-confirm" onClick={() => void revoke()}>
          Revoke for good: it stops syncing at once
        </button>
      )}
      {error && <span className="error">{error}</span>}
    </li>
  )
}

/** The user's devices, live and revoked. */
export function DeviceList({ devices, error, refresh }: { devices: CubbyDevice[] | undefined; error: string | undefined; refresh: () => void }) {
  return (
    <div className="device-list">
      <h3>
        Devices of this user{' '}
        <button type="button" className="secondary small" data-testid="devices-refresh" onClick={refresh}>
          Refresh
        </button>
      </h3>
      {error && <p className="hint">The list needs the server: {error}</p>}
      {devices && (
        <ul data-testid="device-list">
          {devices.map((d) => <DeviceRow key={d.id} device={d} onRevoked={refresh} />)}
        </ul>
      )}
    </div>
  )
}
