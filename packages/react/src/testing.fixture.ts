import type { Cubby, CubbyOptions } from '@cubby/client'
import type { CliServer, TestServer } from '@cubby/test-utils'
import { connectTestClient, offlineToken } from '@cubby/test-utils/clients'
import type { ReactElement } from 'react'
import { type Root, createRoot } from 'react-dom/client'

/** The schema every test of this package uses (the registration below is global to the test program). */
export type TestSchema = { theme: 'dark' | 'light'; count: number; note: string; [key: `todo/${string}`]: { title: string } }

declare module '@cubby/react' {
  interface Register {
    cubby: Cubby<TestSchema>
  }
}

export { offlineToken }

/** A client of user `alice` that keeps values in memory and stays offline. */
export const memoryCubby = (options: Partial<CubbyOptions> = {}): Cubby<TestSchema> =>
  connectTestClient<TestSchema>('http://127.0.0.1:9', { auth: offlineToken('alice'), cache: 'memory', connect: false, ...options })

/** A client of `userId` connected to a real server (values in memory: each one is its own device). */
export const serverCubby = (server: TestServer | CliServer, userId: string): Cubby<TestSchema> =>
  connectTestClient<TestSchema>(server.url, { auth: server.token(userId), cache: 'memory' })

/** A mounted React root; `await using` unmounts it. */
export interface Rendered extends AsyncDisposable {
  readonly container: HTMLElement
  readonly root: Root
  /** The text of the element with `data-testid` = `id`. */
  text(id: string): string | null | undefined
}

/**
 * Mounts `element` in a fresh container. Updates happen through React's own scheduler (no `act`), and tests
 * wait for the DOM with `vi.waitFor`, as a user would see it.
 */
export function render(element: ReactElement): Rendered {
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  root.render(element)
  return {
    container,
    root,
    text: (id) => container.querySelector(`[data-testid="${id}"]`)?.textContent,
    async [Symbol.asyncDispose]() {
      root.unmount()
      container.remove()
    },
  }
}
