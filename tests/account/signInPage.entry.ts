// Browser code of the sign-in page (bundled by signIn-browser.test.ts): one Cubby client per page, driven through `window.signin`.
import { type Cubby, createCubby, isCubbyError } from '@cubby/client'

/** What a test calls in a page with `page.evaluate`. */
export interface SignInPage {
  /** Creates the page's client (anonymous without `token`) and waits for `ready()`: the error code if it rejects. */
  open(options: { url: string; name: string; token?: string }): Promise<string | undefined>
  store(key: string, value: unknown): Promise<void>
  synced(): Promise<void>
  disconnect(): void
  /** Starts `signIn`; the merge request is the page's last act: the server answers, and the client never hears it. */
  signIn(token: string): void
  /** Whether the server has answered the merge (the test closes the page then). */
  merged(): boolean
  userId(): string | undefined
  status(): string
  pendingCount(): number
  entries(): Promise<Array<[string, unknown]>>
  /** The names of this origin's IndexedDB databases. */
  databases(): Promise<string[]>
}

declare global {
  interface Window {
    signin: SignInPage
  }
}

let cubby: Cubby | undefined
let merged = false
let signingIn = false

/** The page's fetch: the answer of `signIn`'s merge is never returned (the page dies right after the server merged). */
const lastFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init)
  if (!signingIn || !String(input instanceof Request ? input.url : input).endsWith('/v1/account/merge')) return response
  merged = true
  return new Promise<Response>(() => {})
}

window.signin = {
  async open({ url, name, token }) {
    cubby = createCubby({ url, name, fetch: lastFetch, reconnect: { minDelayMs: 10, maxDelayMs: 100 }, ...(token !== undefined && { auth: token }) })
    return cubby.ready().then(() => undefined, (error: unknown) => (isCubbyError(error) ? error.code : String(error)))
  },
  store: (key, value) => cubby!.store(key, value),
  synced: () => cubby!.synced(),
  disconnect: () => cubby!.disconnect(),
  signIn(token) {
    signingIn = true
    void cubby!.signIn(token).catch(() => {})
  },
  merged: () => merged,
  userId: () => cubby!.userId,
  status: () => cubby!.status,
  pendingCount: () => cubby!.pendingCount,
  entries: () => cubby!.entries(),
  databases: async () => (await indexedDB.databases()).map((d) => d.name ?? ''),
}
