// @cubby/server embedded in the app, with its data dir as the first argument: server-side verbs by user id.
import { createCubbyServer } from '@cubby/server'

const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: node out/server.js <data dir>')
const cubby = createCubbyServer({ dataDir, secret: 'consumer-app-secret-0123456789abcdef', logger: null })
const { url } = await cubby.listen({ host: '127.0.0.1', port: 0 })
await cubby.store('user-42', 'plan', 'pro')
const plan = await cubby.get('user-42', 'plan')
const health = await fetch(`${url}/healthz`)
await cubby.close()
process.stdout.write(JSON.stringify({ plan, health: health.status }) + '\n')
