// Import first: installs happy-dom's globals in a test that runs in the `node` environment.
import { Window } from 'happy-dom'
import { afterAll } from 'vitest'
import { populateGlobal } from 'vitest/environments'

// Tests that render and also start the real server use this instead of `@vitest-environment happy-dom`: under
// it Vite transforms modules for the browser, which breaks Node-only helpers (`new URL('…', import.meta.url)`
// in @cubby/test-utils resolves to an http: URL, and `ws` resolves to its browser stub).
const window = new Window({ url: 'http://localhost:3000' })
const { keys, originals } = populateGlobal(globalThis, window, { bindFunctions: true })

afterAll(async () => {
  await window.happyDOM.abort()
  for (const key of keys) delete (globalThis as Record<string, unknown>)[key]
  for (const [key, value] of originals) (globalThis as Record<string | symbol, unknown>)[key] = value
})
