import { createCubby } from '@cubby/client'
import { CubbyProvider } from '@cubby/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.js'
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
const cubby = createCubby<DemoSchema>({ url: location.origin, name: NAME })
// When the browser goes offline, an open WebSocket can linger without carrying anything: say offline at once.
addEventListener('offline', () => cubby.disconnect())
addEventListener('online', () => cubby.connect())
// What "Start over, keeping this data" set aside for the new user.
restoreCarried(cubby).catch((error: unknown) => console.warn('Could not restore the data set aside:', error))
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <CubbyProvider cubby={cubby}>
      <App />
    </CubbyProvider>
  </StrictMode>,
)
