import { type CliServer, connectUser } from '@cubby/test-utils'
import { expect } from 'vitest'

/** Stores a JSON value for a user over HTTP, as the app's backend would. */
export async function put(server: CliServer, userId: string, key: string, value: unknown): Promise<void> {
  const res = await fetch(`${server.url}/v1/values/${encodeURIComponent(key)}`, {
    method: 'PUT', headers: { authorization: `Bearer ${server.token(userId)}`, 'content-type': 'application/json' }, body: JSON.stringify(value),
  })
  expect(res.status).toBe(200)
}

/** Every key and value of a user on the server, read over HTTP. */
export async function onServer(server: CliServer, userId: string): Promise<Record<string, unknown>> {
  const headers = { authorization: `Bearer ${server.token(userId)}` }
  const { keys } = (await (await fetch(`${server.url}/v1/values`, { headers })).json()) as { keys: string[] }
  const values: Record<string, unknown> = {}
  for (const key of keys) values[key] = await (await fetch(`${server.url}/v1/values/${encodeURIComponent(key)}`, { headers })).json()
  return values
}

/** The user's latest revision on the server: how many writes it applied. */
export async function headOf(server: CliServer, userId: string): Promise<number> {
  await using socket = await connectUser(server, userId)
  return (await socket.next('synced')).rev
}
