import { CubbyPlugin, useCubby, useCubbyKeys, useCubbyStatus } from '@cubby/vue'
import { createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { expect, it, vi } from 'vitest'

it('renders initial on the server with a plugin given options, creating no client', async () => {
  const WebSocket = vi.fn()
  const fetch = vi.fn()
  const App = defineComponent(() => {
    const theme = useCubby('theme', 'light')
    const keys = useCubbyKeys({ prefix: 'todo/' })
    const state = useCubbyStatus()
    return () => h('p', `${theme.value} ${theme.meta.value.status} ${keys.value.length} ${state.value.status}`)
  })
  const app = createSSRApp(App).use(CubbyPlugin, { options: { url: 'http://127.0.0.1:9', WebSocket: WebSocket as never, fetch: fetch as never } })
  expect(await renderToString(app)).toBe('<p>light loading 0 connecting</p>')
  expect(WebSocket).not.toHaveBeenCalled()
  expect(fetch).not.toHaveBeenCalled()
})
