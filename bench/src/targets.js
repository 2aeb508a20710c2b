// The targets, each as a ratio of medians measured in the same run.
const m = (results, w, s, metric) => results.median(w, s, metric)
const ratio = (a, b) => (a === undefined || b === undefined ? undefined : a / b)
/** The results' rows of the Redis deployment (servers/cubby-redis.js REDIS). */
const REDIS = 'cubby on redis, 2 nodes'

/** Ratios printed for orientation, with no target attached. */
export const informational = [
  { name: 'propagation p50: cubby server alone (raw sockets) vs limit', value: (r) => ratio(m(r, 'propagation', 'cubby server, raw sockets', 'p50'), m(r, 'propagation', 'limit', 'p50')) },
  { name: 'propagation p50: Yjs vs limit', value: (r) => ratio(m(r, 'propagation', 'yjs', 'p50'), m(r, 'propagation', 'limit', 'p50')) },
  { name: 'fan-out writes/s: cubby vs limit', value: (r) => ratio(m(r, 'fanout', 'cubby', 'writes/s'), m(r, 'fanout', 'limit', 'writes/s')) },
  { name: 'fan-out writes/s, second round (warm code): cubby vs Yjs', value: (r) => ratio(m(r, 'fanout', 'cubby', 'writes/s, second round (diagnostic)'), m(r, 'fanout', 'yjs', 'writes/s, second round (diagnostic)')) },
  { name: 'fan-out writes/s: cubby server alone (raw sockets) vs Yjs', value: (r) => ratio(m(r, 'fanout', 'cubby server, raw sockets', 'writes/s'), m(r, 'fanout', 'yjs', 'writes/s')) },
  { name: 'fan-out writes/s: cubby vs PouchDB', value: (r) => ratio(m(r, 'fanout', 'cubby', 'writes/s'), m(r, 'fanout', 'pouchdb', 'writes/s')) },
  { name: 'cold sync, running server: cubby vs limit (iterator)', value: (r) => ratio(m(r, 'coldsync', 'cubby', 'running'), m(r, 'coldsync', 'limit', 'running')) },
  { name: 'cold sync, restarted server: cubby vs limit (open + iterator)', value: (r) => ratio(m(r, 'coldsync', 'cubby', 'restarted'), m(r, 'coldsync', 'limit', 'restarted')) },
  { name: 'propagation p50: cubby on Redis (A on node 1, B on node 2) vs cubby on LevelDB', value: (r) => ratio(m(r, 'propagation', REDIS, 'p50'), m(r, 'propagation', 'cubby', 'p50')) },
  { name: 'propagation p50: cubby on Redis vs limit', value: (r) => ratio(m(r, 'propagation', REDIS, 'p50'), m(r, 'propagation', 'limit', 'p50')) },
  { name: 'propagation p50: cubby on Redis vs Yjs', value: (r) => ratio(m(r, 'propagation', REDIS, 'p50'), m(r, 'propagation', 'yjs', 'p50')) },
  { name: 'fan-out writes/s: cubby on Redis (pairs split across 2 nodes) vs cubby on LevelDB', value: (r) => ratio(m(r, 'fanout', REDIS, 'writes/s'), m(r, 'fanout', 'cubby', 'writes/s')) },
  { name: 'fan-out acked writes/s: cubby on Redis vs cubby on LevelDB', value: (r) => ratio(m(r, 'fanout', REDIS, 'acked writes/s'), m(r, 'fanout', 'cubby', 'acked writes/s')) },
  { name: 'fan-out writes/s: cubby on Redis vs Yjs', value: (r) => ratio(m(r, 'fanout', REDIS, 'writes/s'), m(r, 'fanout', 'yjs', 'writes/s')) },
  { name: 'fan-out server CPU per acked write: cubby on Redis (both nodes) vs cubby on LevelDB', value: (r) => ratio(m(r, 'fanout', REDIS, 'server cpu per acked write'), m(r, 'fanout', 'cubby', 'server cpu per acked write')) },
  { name: 'cold sync, running server: cubby on Redis vs cubby on LevelDB', value: (r) => ratio(m(r, 'coldsync', REDIS, 'running'), m(r, 'coldsync', 'cubby', 'running')) },
  { name: 'cold sync, restarted nodes: cubby on Redis vs cubby on LevelDB (restarted server)', value: (r) => ratio(m(r, 'coldsync', REDIS, 'restarted'), m(r, 'coldsync', 'cubby', 'restarted')) },
  { name: 'idle memory per connection: cubby vs Yjs', value: (r) => ratio(m(r, 'idle', 'cubby', 'KiB/conn'), m(r, 'idle', 'yjs', 'KiB/conn')) },
  { name: 'idle memory per connection: cubby vs bare ws with the same young generation (diagnostic)', value: (r) => ratio(m(r, 'idle', 'cubby', 'KiB/conn'), m(r, 'idle', 'bare ws, small young generation (diagnostic)', 'KiB/conn')) },
  { name: 'awaited store/s: cubby offline (diagnostic) vs idb-keyval set', value: (r) => ratio(m(r, 'browser', 'cubby offline (diagnostic)', 'awaited store/s'), m(r, 'browser', 'idb-keyval', 'awaited store/s')) },
  { name: 'default client bundle, all chunks, vs smallest sync peer (gzip bytes)', value: (r) => ratio(m(r, 'bundle', 'cubby (default cache)', 'total gzip'), smallestPeerBundle(r)) },
]

/** The smallest sync peer's bundle (gzip bytes), or undefined when none was measured. */
function smallestPeerBundle(r) {
  const peers = ['yjs + y-indexeddb + y-websocket', 'replicache', 'pouchdb-browser'].map((s) => m(r, 'bundle', s, 'gzip')).filter((x) => x !== undefined)
  return peers.length ? Math.min(...peers) : undefined
}

export const targets = [
  {
    name: 'propagation p50 vs limit (ws round trip + synced put)',
    value: (r) => ratio(m(r, 'propagation', 'cubby', 'p50'), m(r, 'propagation', 'limit', 'p50')),
    required: '<= 1.5',
    met: (v) => v <= 1.5,
  },
  {
    // Issue 16's second propagation target: the tail, where a synced batch waits behind others.
    name: 'propagation p99 vs Yjs',
    value: (r) => ratio(m(r, 'propagation', 'cubby', 'p99'), m(r, 'propagation', 'yjs', 'p99')),
    required: '< 1',
    met: (v) => v < 1,
  },
  {
    name: 'propagation p50 vs Yjs',
    value: (r) => ratio(m(r, 'propagation', 'cubby', 'p50'), m(r, 'propagation', 'yjs', 'p50')),
    required: '< 1',
    met: (v) => v < 1,
  },
  {
    name: 'fan-out writes/s vs Yjs',
    value: (r) => ratio(m(r, 'fanout', 'cubby', 'writes/s'), m(r, 'fanout', 'yjs', 'writes/s')),
    required: '>= 2',
    met: (v) => v >= 2,
  },
  {
    name: 'cold sync 10k keys, running server, vs Yjs (time)',
    value: (r) => ratio(m(r, 'coldsync', 'cubby', 'running'), m(r, 'coldsync', 'yjs', 'running')),
    required: '< 1',
    met: (v) => v < 1,
  },
  {
    name: 'cold sync 10k keys, restarted server, vs Yjs (time)',
    value: (r) => ratio(m(r, 'coldsync', 'cubby', 'restarted'), m(r, 'coldsync', 'yjs', 'restarted')),
    required: '< 1',
    met: (v) => v < 1,
  },
  {
    name: 'idle memory per connection vs bare ws',
    value: (r) => ratio(m(r, 'idle', 'cubby', 'KiB/conn'), m(r, 'idle', 'bare ws', 'KiB/conn')),
    required: '<= 1.5',
    met: (v) => v <= 1.5,
  },
  {
    name: 'cached get/s vs idb-keyval get/s',
    value: (r) => ratio(m(r, 'browser', 'cubby', 'get/s'), m(r, 'browser', 'idb-keyval', 'get/s')),
    required: '>= 100',
    met: (v) => v >= 100,
  },
  {
    name: 'awaited store/s vs idb-keyval set/s',
    value: (r) => ratio(m(r, 'browser', 'cubby', 'awaited store/s'), m(r, 'browser', 'idb-keyval', 'awaited store/s')),
    required: '>= 1',
    met: (v) => v >= 1,
  },
  {
    name: '10,000 concurrent stores vs idb-keyval setMany (values/s)',
    value: (r) => ratio(m(r, 'browser', 'cubby', 'concurrent values/s'), m(r, 'browser', 'idb-keyval', 'concurrent values/s')),
    required: '>= 0.5',
    met: (v) => v >= 0.5,
  },
  {
    // The initial chunk: what loads before the app's code runs (the peers are one chunk each).
    name: 'default client bundle, initial chunk, vs smallest sync peer (gzip bytes)',
    value: (r) => ratio(m(r, 'bundle', 'cubby (default cache)', 'gzip'), smallestPeerBundle(r)),
    required: '< 0.333',
    met: (v) => v < 1 / 3,
  },
]

/**
 * The CPU per acknowledged write (medians) and what one core would do at that cost, for the fan-out's batches
 * (every client pushes its 200 stores at once) and the propagation's single writes: the figures a capacity
 * projection starts from. Rows only for what was measured.
 */
export function costPerWrite(r) {
  const rows = []
  const mixes = [
    ['fan-out, batched', 'fanout', 'server cpu per acked write', 'redis cpu per acked write'],
    ['propagation, one at a time', 'propagation', 'server cpu per write', 'redis cpu per write'],
  ]
  for (const [mix, workload, serverMetric, redisMetric] of mixes) {
    for (const [system, label] of [['cubby', 'cubby on LevelDB'], [REDIS, 'cubby on Redis, 2 nodes']]) {
      const server = m(r, workload, system, serverMetric)
      if (server === undefined) continue
      const redis = m(r, workload, system, redisMetric)
      rows.push({ mix, system: label, 'server µs/write': server, 'writes/s per server core': 1e6 / server, 'redis µs/write': redis, 'writes/s per Redis core': redis === undefined ? undefined : 1e6 / redis })
    }
  }
  return rows
}
