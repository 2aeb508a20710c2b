// A Cubby device in its own OS process, driven over IPC by startRemoteDevice(). Node's global
// BroadcastChannel does not cross processes, so whatever this device sees came through the server.
// IPC uses 'advanced' serialization (V8's structured clone), so values cross it with full fidelity.
import 'fake-indexeddb/auto'
import { createCubby } from '@cubby/client'
import { WebSocket } from 'ws'

const options = JSON.parse(process.argv[2] ?? '{}')
const cubby = createCubby({ ...options, WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 250 } })
const send = (message) => process.send?.(message)

cubby.addEventListener('change', (event) => send({ event: 'change', keys: event.detail.keys, origin: event.detail.origin }))
cubby.addEventListener('error', (event) => send({ event: 'error', code: event.detail.error.code, message: event.detail.error.message }))

process.on('message', async ({ id, method, args }) => {
  try {
    const result = await cubby[method](...args)
    send({ id, result })
  } catch (error) {
    send({ id, error: { name: error?.name, code: error?.code, message: String(error?.message ?? error) } })
  }
})
process.on('disconnect', () => void cubby.close().finally(() => process.exit(0)))
send({ event: 'started' })
