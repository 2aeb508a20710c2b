import { ConnectionBadge } from './ConnectionBadge.js'
import { DevicePanel } from './DevicePanel.js'
import type { LinkOutcome } from './joinWithLink.js'
import { RefusedBanner } from './RefusedBanner.js'
import { SubmissionForm } from './SubmissionForm.js'
import { SubmissionList } from './SubmissionList.js'
import { ThemeToggle } from './ThemeToggle.js'

/**
 * The dashboard: a form whose submissions persist per user, the user's preferences, and their devices; with what
 * opening a link from another device did, when the page was opened from one.
 */
export function App({ linkOutcome }: { linkOutcome?: LinkOutcome | undefined }) {
  return (
    <div className="app">
      <header className="app-header">
        <h1>Cubby demo</h1>
        <ConnectionBadge />
        <ThemeToggle />
      </header>
      <main className="app-main">
        <RefusedBanner />
        {linkOutcome && (
          <section className={`card link-notice${linkOutcome.joined ? '' : ' refused'}`} role="status" data-testid="link-outcome" data-joined={linkOutcome.joined}>
            {linkOutcome.joined ? 'This browser is now one of your devices: it shows and syncs the same data.' : linkOutcome.message}
          </section>
        )}
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
