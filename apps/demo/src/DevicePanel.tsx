import { useCubbyClient, useCubbyStatus } from '@cubby/react'
import { useRef, useState } from 'react'
import { type Identity, deviceLink } from './identity.js'
import { startOver } from './startOver.js'

/** What the Copy button says: never "Copied" unless the browser said the copy happened. */
type CopyState = 'idle' | 'copied' | 'manual'

/** ⌘C on Apple devices, Ctrl+C elsewhere. */
const copyKeys = (): string => (/Mac|iPhone|iPad/.test(navigator.platform) ? '⌘C' : 'Ctrl+C')

/** Who this is (anonymous by default) and the link that opens the same user on another device. */
export function DevicePanel({ identity }: { identity: Identity }) {
  const cubby = useCubbyClient()
  // Re-renders on status events: `cubby.tabs` is known once the client has loaded.
  useCubbyStatus()
  const [copy, setCopy] = useState<CopyState>('idle')
  const input = useRef<HTMLInputElement>(null)
  const link = deviceLink(identity)

  // navigator.clipboard exists only in secure contexts (https, localhost): over plain http from a phone, fall
  // back to copying the selected text, and where that fails too, leave it selected for the user to copy.
  const copyLink = async () => {
    try {
      if (!navigator.clipboard) throw new Error('No clipboard API')
      await navigator.clipboard.writeText(link)
      return setCopy('copied')
    } catch {
      input.current?.focus()
      input.current?.select()
      setCopy(document.execCommand('copy') ? 'copied' : 'manual')
    }
  }
  const forget = async () => {
    if (!cubby || !confirm('Forget this user on this device (changes not yet on the server are lost) and start as a new anonymous user?')) return
    await startOver(cubby, false)
  }

  return (
    <section className="card devices" data-testid="devices">
      <h2>Your devices</h2>
      <p>
        You are <code data-testid="user-id">{identity.userId}</code>, an anonymous user kept in this browser.
      </p>
      <p>Open this link on another device (or in another browser) to use the same data there:</p>
      <div className="device-link">
        <input ref={input} readOnly value={link} aria-label="Link for another device" data-testid="device-link" onFocus={(e) => e.target.select()} />
        <button type="button" data-testid="copy-link" data-copy={copy} onClick={() => void copyLink()}>
          {copy === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copy === 'manual' && (
        <p className="hint" role="status" data-testid="copy-manual">
          The link is selected: press {copyKeys()} to copy it.
        </p>
      )}
      <p className="hint">The link holds your access token: share it only with yourself.</p>
      {cubby?.tabs === 'independent' && !isSecureContext && (
        <p className="notice" data-testid="insecure-notice">
          This page is plain http on another host (no secure context): each tab keeps its own connection, and the
          browser has no clipboard API for Copy.
        </p>
      )}
      <button type="button" className="secondary" onClick={() => void forget()}>
        Start over as a new user
      </button>
    </section>
  )
}
