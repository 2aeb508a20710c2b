import type { LinkCode } from '@cubby/client'
import { useCubbyClient } from '@cubby/react'
import { useEffect, useState } from 'react'
import { QrCode } from './QrCode.js'

/** Seconds left until `at` (ms), updated every second. */
function useSecondsLeft(at: number | undefined): number {
  const [now, setNow] = useState(Date.now)
  useEffect(() => {
    if (at === undefined) return
    const timer = setInterval(() => setNow(Date.now()), 1_000)
    return () => clearInterval(timer)
  }, [at])
  return at === undefined ? 0 : Math.max(0, Math.ceil((at - now) / 1_000))
}

const minutes = (s: number): string => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`

/**
 * "Link another device": a one-time link as a URL and a QR code, with its countdown. `linked` is set once a device
 * joined with it (the list grew), which ends the link here.
 */
export function LinkAnotherDevice({ link, onLink, linked }: { link: LinkCode | undefined; onLink: (link: LinkCode | undefined) => void; linked: boolean }) {
  const cubby = useCubbyClient()
  const [error, setError] = useState<string>()
  const left = useSecondsLeft(link?.expiresAt)
  const create = async () => {
    try {
      setError(undefined)
      onLink(await cubby!.devices.link({ pageUrl: `${location.origin}${location.pathname}` }))
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
  }
  const live = link !== undefined && left > 0 && !linked
  return (
    <div className="link-another" data-testid="link-codes">
      <h3>Link another device</h3>
      <p className="hint">
        Open the link (or scan the code) on your other device: it then shows and syncs the same data. The link works
        once, for a few minutes.
      </p>
      {live && (
        <div className="link-code">
          <QrCode text={link.url!} label="QR code of the link" />
          <p>
            <a data-testid="link-url" href={link.url} target="_blank" rel="noreferrer">{link.url}</a>
          </p>
          <p className="hint" data-testid="link-expires">Expires in {minutes(left)}</p>
        </div>
      )}
      {link !== undefined && linked && <p data-testid="link-used">Linked: the other device joined.</p>}
      {link !== undefined && !linked && left === 0 && <p className="hint" data-testid="link-expired">This link expired.</p>}
      {!live && (
        <button type="button" data-testid="link-create" onClick={() => void create()}>
          {link === undefined ? 'Link another device' : 'Make a new link'}
        </button>
      )}
      {error && <p className="error">{error}</p>}
    </div>
  )
}
