// Device B of the propagation workload, in a process of its own (a separate device): reports every
// remote key with the time its change event fired, read from process.hrtime (CLOCK_MONOTONIC, one
// clock for every process of the machine), so device A can compute the latency.
import { loadClient } from '../clients/index.js'

process.once('message', async ({ system, url, secret, user }) => {
  const { connect } = await loadClient(system)
  const client = await connect({ url, user, secret })
  await client.ready()
  client.onRemote((key) => process.send({ key, t: String(process.hrtime.bigint()) }))
  process.send({ ready: true })
  process.once('message', async () => {
    await client.close()
    process.exit(0)
  })
})
process.once('disconnect', () => process.exit(0))
