import { createCubby, type CubbyOptions } from '@cubby/client'
import type { AnyCubby } from '@cubby/client/bindings'
import { type ReactElement, type ReactNode, createContext, createElement, useContext, useEffect, useState } from 'react'

/** `undefined`: no provider; `null`: a provider without a client yet (server rendering, or options before mount). */
const CubbyContext = createContext<AnyCubby | null | undefined>(undefined)

/** Props of {@link CubbyProvider}: a Cubby instance, or the options to create one. */
export type CubbyProviderProps = { children?: ReactNode } & (
  | {
      /** The client the hooks below use; `null` renders every hook in its loading state. */
      cubby: AnyCubby | null
      options?: never
    }
  | {
      /** Options for `createCubby`, read once: the client is created after mount (never on the server) and closed on unmount. */
      options: CubbyOptions
      cubby?: never
    }
)

/**
 * Gives the hooks below it a Cubby: pass an instance, or options to create one in the browser only. Hooks
 * render `initial` with `meta.status === 'loading'` until the client has loaded (always on the server).
 *
 * @example
 * ```ts
 * const cubby = createCubby<Schema>({ url: 'https://cubby.example.com' })
 * createRoot(el).render(<CubbyProvider cubby={cubby}><App /></CubbyProvider>)
 * // or, creating it after mount: <CubbyProvider options={{ url }}>
 * ```
 */
export function CubbyProvider(props: CubbyProviderProps): ReactElement {
  const [created, setCreated] = useState<AnyCubby | null>(null)
  const options = props.options
  // Created in an effect, not during render: StrictMode renders twice and would leak a client per extra render.
  useEffect(() => {
    if (!options) return
    const cubby = createCubby(options)
    setCreated(cubby)
    return () => {
      setCreated(null)
      void cubby.close()
    }
    // The options are read once, on mount: remount (a new `key`) to switch users.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  return createElement(CubbyContext.Provider, { value: options ? created : props.cubby }, props.children)
}

/**
 * The Cubby of the nearest {@link CubbyProvider}, or `null` while there is none yet.
 *
 * @throws Error when there is no CubbyProvider above (a programming error, not a state).
 * @internal
 */
export function useCubbyContext(): AnyCubby | null {
  const cubby = useContext(CubbyContext)
  if (cubby === undefined) throw new Error('Cubby hooks need a <CubbyProvider> above them')
  return cubby
}
