/** Runs `fn(i)` one call at a time until `maxOps` calls or `maxMs` pass; returns calls per second. */
export async function timeLoop(fn, { maxOps, maxMs }) {
  const t0 = performance.now()
  let n = 0
  let elapsed = 0
  while (n < maxOps) {
    await fn(n)
    n++
    // Reading the clock costs about as much as a Map get, so look at it every 64 calls only.
    if ((n & 63) === 0 && (elapsed = performance.now() - t0) >= maxMs) break
  }
  elapsed = performance.now() - t0
  return n / (elapsed / 1000)
}

export const value100 = (seed) => {
  const head = `v${seed}:`
  return head + 'x'.repeat(100 - head.length)
}

export const KEYS = (n) => Array.from({ length: n }, (_, i) => `c/${i}`)
