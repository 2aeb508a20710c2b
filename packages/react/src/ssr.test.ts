import { createElement as h } from 'react'
import { renderToString } from 'react-dom/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryCubby } from './testing.fixture.js'

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('server rendering', () => {
  it('imports without touching IndexedDB, WebSocket or fetch', async () => {
    const touched: string[] = []
    for (const name of ['indexedDB', 'WebSocket', 'fetch']) {
      Object.defineProperty(globalThis, name, { configurable: true, get: () => void touched.push(name) })
    }
    try {
      vi.resetModules()
      await import('@cubby/react')
    } finally {
      for (const name of ['indexedDB', 'WebSocket', 'fetch']) delete (globalThis as Record<string, unknown>)[name]
    }
    expect(touched).toEqual([])
  })

  it('renders initial with a provider given options, without creating a client', async () => {
    const { CubbyProvider, useCubby, useCubbyKeys, useCubbyStatus } = await import('@cubby/react')
    const WebSocket = vi.fn()
    const fetch = vi.fn()
    function App() {
      const [theme, , meta] = useCubby('theme', 'light')
      const keys = useCubbyKeys({ prefix: 'todo/' })
      const { status } = useCubbyStatus()
      return h('p', null, `${theme} ${meta.status} ${keys.length} ${status}`)
    }
    const options = { url: 'http://127.0.0.1:9', WebSocket: WebSocket as never, fetch: fetch as never }
    expect(renderToString(h(CubbyProvider, { options }, h(App)))).toBe('<p>light loading 0 connecting</p>')
    expect(WebSocket).not.toHaveBeenCalled()
    expect(fetch).not.toHaveBeenCalled()
  })

  it('renders initial even with a loaded client, so that hydration matches', async () => {
    const { CubbyProvider, useCubby } = await import('@cubby/react')
    await using cubby = memoryCubby()
    await cubby.store('theme', 'dark')
    function App() {
      const [theme, , meta] = useCubby('theme', 'light')
      return h('p', null, `${theme} ${meta.status}`)
    }
    expect(renderToString(h(CubbyProvider, { cubby }, h(App)))).toBe('<p>light loading</p>')
  })
})
