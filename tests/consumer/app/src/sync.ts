// Two devices of one user sync a value through a running cubby-server (its URL is the first argument).
import { createCubby } from '@cubby/client'
import { WebSocket } from 'ws'

type Schema = { greeting: string }

const url = process.argv[2]
if (!url) throw new Error('usage: node out/sync.js <server url>')
const response = await fetch(`${url}/v1/identities`, { method: 'POST' })
if (!response.ok) throw new Error(`POST /v1/identities: ${response.status}`)
const { token } = (await response.json()) as { token: string }

const device = (name: string) =>
  createCubby<Schema>({
    url,
    auth: token,
    name,
    cache: 'memory',
    tabs: 'independent',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  })

const laptop = device('laptop')
await laptop.store('greeting', 'hello from the laptop')
await laptop.synced()
const phone = device('phone')
await phone.ready()
const greeting: string | undefined = await phone.get('greeting')
await laptop.close()
await phone.close()
process.stdout.write(JSON.stringify({ greeting }) + '\n')
