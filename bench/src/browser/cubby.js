// Browser page code for Cubby with its default cache (IndexedDB through idb-keyval), connected to a
// running cubby-server; bundled by esbuild into the bench page.
import { createCubby } from '@cubby/client'
import { timeLoop, value100, KEYS } from './timing.js'

window.benchCubby = async ({ url, token, concurrent, maxMs, offline = false }) => {
  // offline: a diagnostic run that never connects, so no changes or acks are written to the cache.
  const cubby = createCubby({ url, auth: token, connect: !offline })
  if (!offline) await cubby.ready()
  await cubby.store('warm', value100(0))
  const getPerSecond = await timeLoop(async () => { await cubby.get('warm') }, { maxOps: 5_000_000, maxMs })
  const storePerSecond = await timeLoop(async (i) => { await cubby.store(`s/${i}`, value100(i)) }, { maxOps: 100_000, maxMs })
  const t0 = performance.now()
  await Promise.all(KEYS(concurrent).map((k, i) => cubby.store(k, value100(i))))
  const concurrentPerSecond = concurrent / ((performance.now() - t0) / 1000)
  const check = await cubby.get(`c/${concurrent - 1}`)
  if (check !== value100(concurrent - 1)) throw new Error(`read back ${String(check).slice(0, 20)}`)
  await cubby.close()
  return { getPerSecond, storePerSecond, concurrentPerSecond, persistent: cubby.persistent }
}
