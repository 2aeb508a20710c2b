// Browser page code for idb-keyval and a plain Map; bundled by esbuild into the bench page.
import { get, set, setMany } from 'idb-keyval'
import { timeLoop, value100, KEYS } from './timing.js'

window.benchPeers = {
  async map({ concurrent, maxMs }) {
    const map = new Map()
    map.set('warm', value100(0))
    const getPerSecond = await timeLoop(async () => { await map.get('warm') }, { maxOps: 5_000_000, maxMs })
    const storePerSecond = await timeLoop(async (i) => { await map.set(`s/${i}`, value100(i)) }, { maxOps: 5_000_000, maxMs })
    const t0 = performance.now()
    await Promise.all(KEYS(concurrent).map((k, i) => Promise.resolve(map.set(k, value100(i)))))
    const concurrentPerSecond = concurrent / ((performance.now() - t0) / 1000)
    return { getPerSecond, storePerSecond, concurrentPerSecond }
  },
  async idbKeyval({ concurrent, maxMs }) {
    await set('warm', value100(0))
    const getPerSecond = await timeLoop(async () => { await get('warm') }, { maxOps: 100_000, maxMs })
    const storePerSecond = await timeLoop(async (i) => { await set(`s/${i}`, value100(i)) }, { maxOps: 100_000, maxMs })
    const entries = KEYS(concurrent).map((k, i) => [k, value100(i)])
    const t0 = performance.now()
    await setMany(entries)
    const concurrentPerSecond = concurrent / ((performance.now() - t0) / 1000)
    return { getPerSecond, storePerSecond, concurrentPerSecond }
  },
}
