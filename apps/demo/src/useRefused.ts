import { useCubbyClient } from '@cubby/react'
import { useEffect, useState } from 'react'

/** Why the server refused this browser's identity: its message, and whether this device was revoked. */
export interface Refusal {
  message: string
  /** This browser was removed from the user's devices (on another device). */
  revoked: boolean
}

/**
 * The server's refusal once it refused this browser's identity (a reset data dir, a deleted user, a revoked
 * device): the client then stops connecting, so "offline" would be wrong, and only starting over helps.
 */
export function useRefused(): Refusal | undefined {
  const cubby = useCubbyClient()
  const [refused, setRefused] = useState<Refusal>()
  useEffect(() => {
    if (!cubby) return
    const controller = new AbortController()
    cubby.addEventListener(
      'error',
      ({ detail }) => {
        if (detail.stopped === 'token' || detail.stopped === 'identity') setRefused({ message: detail.error.message, revoked: detail.error.reason === 'revoked' })
      },
      { signal: controller.signal },
    )
    return () => controller.abort()
  }, [cubby])
  return refused
}
