import { useCubbyClient } from '@cubby/react'
import { useEffect, useState } from 'react'

/**
 * The server's message once it refused this browser's identity (a reset data dir, a deleted user): the client
 * then stops connecting, so "offline" would be wrong, and only starting over helps.
 */
export function useRefused(): string | undefined {
  const cubby = useCubbyClient()
  const [refused, setRefused] = useState<string>()
  useEffect(() => {
    if (!cubby) return
    const controller = new AbortController()
    cubby.addEventListener(
      'error',
      ({ detail }) => {
        if (detail.stopped === 'token' || detail.stopped === 'identity') setRefused(detail.error.message)
      },
      { signal: controller.signal },
    )
    return () => controller.abort()
  }, [cubby])
  return refused
}
