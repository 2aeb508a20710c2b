import { ConnectionBadge } from './ConnectionBadge.js'
import { DevicePanel } from './DevicePanel.js'
import { RefusedBanner } from './RefusedBanner.js'
import { SubmissionForm } from './SubmissionForm.js'
import { SubmissionList } from './SubmissionList.js'
import { ThemeToggle } from './ThemeToggle.js'

/** The dashboard: a form whose submissions persist per user, the user's preferences, and their devices. */
export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>Cubby demo</h1>
        <ConnectionBadge />
        <ThemeToggle />
      </header>
      <main className="app-main">
        <RefusedBanner />
        <SubmissionForm />
        <SubmissionList />
        <DevicePanel />
      </main>
      <footer className="app-footer">
        Every value lives in this browser first (IndexedDB) and syncs to cubby-server when online.
      </footer>
    </div>
  )
}
