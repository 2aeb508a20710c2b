/**
 * A Web Locks `LockManager` for one process (exclusive locks, `signal`, `ifAvailable`), for tests under Node,
 * which has BroadcastChannel but not `navigator.locks`. Tests only.
 */
function createTestLocks(): LockManager {
  const held = new Set<string>()
  const waiting = new Map<string, Array<() => void>>()
  const next = (name: string): void => {
    held.delete(name)
    waiting.get(name)?.shift()?.()
  }
  const request = async (name: string, ...args: unknown[]): Promise<unknown> => {
    const callback = args.at(-1) as (lock: Lock | null) => unknown
    const options = (args.length > 1 ? args[0] : {}) as LockOptions
    if (held.has(name)) {
      if (options.ifAvailable) return callback(null)
      await new Promise<void>((resolve, reject) => {
        const queue = waiting.get(name) ?? []
        waiting.set(name, queue)
        const grant = (): void => resolve()
        queue.push(grant)
        options.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(grant)
          if (i >= 0) queue.splice(i, 1)
          reject(options.signal!.reason as unknown)
        })
      })
    }
    held.add(name)
    try {
      return await callback({ name, mode: 'exclusive' })
    } finally {
      next(name)
    }
  }
  return { request, query: async () => ({ held: [], pending: [] }) }
}

/** Installs `navigator.locks` for this test file (Node 20 has no navigator). */
export function installTestLocks(): LockManager {
  const locks = createTestLocks()
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true, writable: true })
  return locks
}
