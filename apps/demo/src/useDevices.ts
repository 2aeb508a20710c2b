import type { CubbyDevice } from '@cubby/client'
import { useCubbyClient, useCubbyStatus } from '@cubby/react'
import { useCallback, useEffect, useState } from 'react'

/** How often the list is read again while a link code waits for the other device. */
const WATCH_MS = 2_000

/** The user's devices (read from the server when online, and every few seconds while `watching`), and a refresh. */
export function useDevices(watching: boolean): { devices: CubbyDevice[] | undefined; error: string | undefined; refresh: () => void } {
  const cubby = useCubbyClient()
  const { status } = useCubbyStatus()
  const [devices, setDevices] = useState<CubbyDevice[]>()
  const [error, setError] = useState<string>()
  const refresh = useCallback(() => {
    if (!cubby) return
    cubby.devices.list().then(
      (list) => (setDevices(list), setError(undefined)),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    )
  }, [cubby])
  useEffect(() => {
    if (status === 'online') refresh()
  }, [status, refresh])
  useEffect(() => {
    if (!watching) return
    const timer = setInterval(refresh, WATCH_MS)
    return () => clearInterval(timer)
  }, [watching, refresh])
  return { devices, error, refresh }
}
