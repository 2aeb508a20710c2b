// The targets, each as a ratio of medians measured in the same run.
const m = (results, w, s, metric) => results.median(w, s, metric)
const ratio = (a, b) => (a === undefined || b === undefined ? undefined : a / b)

/** Ratios printed for orientation, with no target attached. */
export const informational = [
  { name: 'propagation p50: cubby server alone (raw sockets) vs limit', value: (r) => ratio(m(r, 'propagation', 'cubby server, raw sockets', 'p50'), m(r, 'propagation', 'limit', 'p50')) },
  { name: 'propagation p50: Yjs vs limit', value: (r) => ratio(m(r, 'propagation', 'yjs', 'p50'), m(r, 'propagation', 'limit', 'p50')) },
  { name: 'fan-out writes/s: cubby vs limit', value: (r) => ratio(m(r, 'fanout', 'cubby', 'writes/s'), m(r, 'fanout', 'limit', 'writes/s')) },
  { name: 'fan-out writes/s: cubby server alone (raw sockets) vs Yjs', value: (r) => ratio(m(r, 'fanout', 'cubby server, raw sockets', 'writes/s'), m(r, 'fanout', 'yjs', 'writes/s')) },
  { name: 'fan-out writes/s: cubby vs PouchDB', value: (r) => ratio(m(r, 'fanout', 'cubby', 'writes/s'), m(r, 'fanout', 'pouchdb', 'writes/s')) },
  { name: 'cold sync, running server: cubby vs limit (iterator)', value: (r) => ratio(m(r, 'coldsync', 'cubby', 'running'), m(r, 'coldsync', 'limit', 'running')) },
  { name: 'cold sync, restarted server: cubby vs limit (open + iterator)', value: (r) => ratio(m(r, 'coldsync', 'cubby', 'restarted'), m(r, 'coldsync', 'limit', 'restarted')) },
  { name: 'idle memory per connection: cubby vs Yjs', value: (r) => ratio(m(r, 'idle', 'cubby', 'KiB/conn'), m(r, 'idle', 'yjs', 'KiB/conn')) },
  { name: 'idle memory per connection: cubby vs bare ws with the same young generation (diagnostic)', value: (r) => ratio(m(r, 'idle', 'cubby', 'KiB/conn'), m(r, 'idle', 'bare ws, small young generation (diagnostic)', 'KiB/conn')) },
  { name: 'awaited store/s: cubby offline (diagnostic) vs idb-keyval set', value: (r) => ratio(m(r, 'browser', 'cubby offline (diagnostic)', 'awaited store/s'), m(r, 'browser', 'idb-keyval', 'awaited store/s')) },
]

export const targets = [
  {
    name: 'propagation p50 vs limit (ws round trip + synced put)',
    value: (r) => ratio(m(r, 'propagation', 'cubby', 'p50'), m(r, 'propagation', 'limit', 'p50')),
    required: '<= 1.5',
    met: (v) => v <= 1.5,
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
    name: 'default client bundle vs smallest sync peer (gzip bytes)',
    value: (r) => {
      const peers = ['yjs + y-indexeddb + y-websocket', 'replicache', 'pouchdb-browser'].map((s) => m(r, 'bundle', s, 'gzip')).filter((x) => x !== undefined)
      return peers.length ? ratio(m(r, 'bundle', 'cubby (default cache)', 'gzip'), Math.min(...peers)) : undefined
    },
    required: '< 0.333',
    met: (v) => v < 1 / 3,
  },
]
