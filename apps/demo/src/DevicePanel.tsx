import type { LinkCode } from '@cubby/client'
import { useCubbyClient, useCubbyStatus } from '@cubby/react'
import { useState } from 'react'
import { DeviceList } from './DeviceList.js'
import { LinkAnotherDevice } from './LinkAnotherDevice.js'
import { startOver } from './startOver.js'
import { useDevices } from './useDevices.js'

/** Who this is, linking another device with a one-time link, and the user's devices. */
export function DevicePanel() {
  const cubby = useCubbyClient()
  // Re-renders on status events: `cubby.userId` and `cubby.tabs` are known once the client has loaded.
  useCubbyStatus()
  const [link, setLink] = useState<{ code: LinkCode; devicesBefore: number }>()
  const { devices, error, refresh } = useDevices(link !== undefined)
  const linked = link !== undefined && devices !== undefined && devices.length > link.devicesBefore
  const forget = async () => {
    if (!cubby || !confirm('Forget this user on this device (changes not yet on the server are lost) and start as a new anonymous user?')) return
    await startOver(cubby, false)
  }

  return (
    <section className="card devices" data-testid="devices">
      <h2>Your devices</h2>
      <p>
        You are <code data-testid="user-id">{cubby?.userId ?? '…'}</code>, a user whose key this browser keeps: it works
        offline from the first visit. Link your other devices to use the same data there; clearing this site's data
        in a browser removes it from there.
      </p>
      {cubby?.tabs === 'independent' && !isSecureContext && (
        <p className="notice" data-testid="insecure-notice">
          This page is plain http on another host (no secure context): the server gave this browser its identity, and
          each tab keeps its own connection.
        </p>
      )}
      <div className="devices-body">
        <LinkAnotherDevice
          link={link?.code}
          linked={linked}
          onLink={(code) => setLink(code === undefined ? undefined : { code, devicesBefore: devices?.length ?? 0 })}
        />
        <DeviceList devices={devices} error={error} refresh={refresh} />
      </div>
      <button type="button" className="secondary" onClick={() => void forget()}>
        Start over as a new user
      </button>
    </section>
  )
}
