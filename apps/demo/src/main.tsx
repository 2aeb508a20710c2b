import { createCubby } from '@cubby/client'
import { CubbyProvider } from '@cubby/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.js'
import { resolveIdentity } from './identity.js'
import type { DemoSchema } from './schema.js'
import { restoreCarried } from './startOver.js'
import './styles.css'

// A link with another user's token, opened in a tab that already runs: start over as that user.
addEventListener('hashchange', () => {
  if (location.hash.includes('token=')) location.reload()
})

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('No offline support:', error))
}

const root = createRoot(document.getElementById('root')!)
root.render(<p className="boot">Getting an identity…</p>)

const identity = await resolveIdentity()
const cubby = createCubby<DemoSchema>({ url: location.origin, auth: identity.token, name: 'cubby-demo' })
// When the browser goes offline, an open WebSocket can linger without carrying anything: say offline at once.
addEventListener('offline', () => cubby.disconnect())
addEventListener('online', () => cubby.connect())
// What "Start over, keeping this data" set aside for the new user.
restoreCarried(cubby).catch((error: unknown) => console.warn('Could not restore the data set aside:', error))
root.render(
  <StrictMode>
    <CubbyProvider cubby={cubby}>
      <App identity={identity} />
    </CubbyProvider>
  </StrictMode>,
)
