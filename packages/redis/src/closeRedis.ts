import type { Cluster, Redis } from 'ioredis'

/** How long a close waits for Redis to answer `QUIT` (and for commands in flight) before it drops the connection. */
export const CLOSE_WAIT_MS = 2000

/** Resolves when `promise` settles or after `ms`, whichever comes first. @internal */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([promise.then(() => {}, () => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

/**
 * Closes a connection: `QUIT` while Redis answers, so that commands sent before it are answered first; dropped at
 * once when Redis is unreachable, or after {@link CLOSE_WAIT_MS} without an answer. ioredis would otherwise hold
 * the `QUIT` (and the shutdown waiting on it) until Redis came back.
 * @internal
 */
export async function closeRedis(redis: Redis | Cluster): Promise<void> {
  if (redis.status === 'end') return
  if (redis.status === 'ready') await settledWithin(redis.quit(), CLOSE_WAIT_MS)
  // (Read again: QUIT may have ended it meanwhile.)
  const status: string = redis.status
  if (status !== 'end') redis.disconnect()
}
