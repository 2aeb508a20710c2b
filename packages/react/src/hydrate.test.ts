// @vitest-environment happy-dom
import type { Cubby } from '@cubby/client'
import { CubbyProvider, useCubby, useCubbyClient } from '@cubby/react'
import { createElement as h } from 'react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { expect, it, vi } from 'vitest'
import { type TestSchema, memoryCubby, offlineToken } from './testing.fixture.js'

function App() {
  const [theme, , meta] = useCubby('theme', 'light')
  return h('p', { 'data-testid': 'theme' }, `${theme} ${meta.status}`)
}

it('hydrates the server HTML without a mismatch, then shows the stored value', async () => {
  await using cubby = memoryCubby()
  await cubby.store('theme', 'dark')
  const container = document.createElement('div')
  container.innerHTML = renderToString(h(CubbyProvider, { cubby: null }, h(App)))
  expect(container.textContent).toBe('light loading')
  const onRecoverableError = vi.fn()
  const root = hydrateRoot(container, h(CubbyProvider, { cubby }, h(App)), { onRecoverableError })
  await vi.waitFor(() => expect(container.textContent).toBe('dark pending'))
  expect(onRecoverableError).not.toHaveBeenCalled()
  root.unmount()
})

it('hydrates a provider given options, creating the client only after mount and closing it on unmount', async () => {
  const options = { url: 'http://127.0.0.1:9', cache: 'memory', connect: false, auth: offlineToken('alice') } as const
  const clients: Array<Cubby<TestSchema> | null> = []
  function Client() {
    clients.push(useCubbyClient())
    return null
  }
  const container = document.createElement('div')
  container.innerHTML = renderToString(h(CubbyProvider, { options }, h(App), h(Client)))
  expect(clients).toEqual([null])
  const onRecoverableError = vi.fn()
  const root = hydrateRoot(container, h(CubbyProvider, { options }, h(App), h(Client)), { onRecoverableError })
  await vi.waitFor(() => expect(container.textContent).toBe('light synced'))
  expect(onRecoverableError).not.toHaveBeenCalled()
  root.unmount()
  await expect(clients.at(-1)!.store('theme', 'dark')).rejects.toMatchObject({ code: 'CLOSED' })
})
