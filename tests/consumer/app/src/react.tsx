// @cubby/react rendered on the server: the hooks give `initial` until a client has loaded.
import { createCubby } from '@cubby/client'
import { CubbyProvider, useCubby, useCubbyKeys, useCubbyStatus } from '@cubby/react'
import { renderToString } from 'react-dom/server'

export const cubby = createCubby<{ theme: 'dark' | 'light'; [key: `todo/${string}`]: { title: string } }>({
  url: 'http://127.0.0.1:1',
  cache: 'memory',
  connect: false,
})
declare module '@cubby/react' {
  interface Register {
    cubby: typeof cubby
  }
}

function Theme() {
  const [theme, setTheme, meta] = useCubby('theme', 'light')
  const todos: readonly string[] = useCubbyKeys({ prefix: 'todo/' })
  const { status } = useCubbyStatus()
  const next: 'dark' | 'light' = theme === 'dark' ? 'light' : 'dark'
  return (
    <button type="button" onClick={() => void setTheme(next)}>
      {theme} {meta.status} {status} {todos.length}
    </button>
  )
}

const html = renderToString(
  <CubbyProvider cubby={cubby}>
    <Theme />
  </CubbyProvider>,
)
await cubby.close()
process.stdout.write(JSON.stringify({ html }) + '\n')
