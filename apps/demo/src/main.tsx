import { createCubby } from '@cubby/client'
import { CubbyProvider } from '@cubby/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.js'
import { type LinkOutcome, joinWithLink } from './joinWithLink.js'
import { takeLinkCode } from './linkFromUrl.js'
import { adoptLegacyIdentity } from './legacyIdentity.js'
import type { DemoSchema } from './schema.js'
import { restoreCarried } from './startOver.js'
import './styles.css'

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('No offline support:', error))
}

const NAME = 'cubby-demo'
await adoptLegacyIdentity(NAME)
// The client's default identity: a key pair this browser makes itself, so that the first visit works offline.
let cubby = createCubby<DemoSchema>({ url: location.origin, name: NAME })
// Opened from a link made on another device (`#link=<code>`): join that device's user.
const linkCode = takeLinkCode()
let linkOutcome: LinkOutcome | undefined
if (linkCode !== undefined) ({ cubby, outcome: linkOutcome } = await joinWithLink(cubby, linkCode))
// When the browser goes offline, an open WebSocket can linger without carrying anything: say offline at once.
addEventListener('offline', () => cubby.disconnect())
addEventListener('online', () => cubby.connect())
// What "Start over, keeping this data" set aside for the new user.
restoreCarried(cubby).catch((error: unknown) => console.warn('Could not restore the data set aside:', error))
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <CubbyProvider cubby={cubby}>
      <App linkOutcome={linkOutcome} />
    </CubbyProvider>
  </StrictMode>,
)
