import type { Cubby, CubbyOptions } from '@cubby/client'
import type { CliServer, TestServer } from '@cubby/test-utils'
import { connectTestClient, offlineToken } from '@cubby/test-utils/clients'

/** The schema every test of this package uses (the registration below is global to the test program). */
export type TestSchema = { theme: 'dark' | 'light'; count: number; note: string; [key: `todo/${string}`]: { title: string } }

declare module '@cubby/svelte' {
  interface Register {
    cubby: Cubby<TestSchema>
  }
}

export { offlineToken }

/** A client of user `alice` that keeps values in memory and stays offline. */
export const memoryCubby = (options: Partial<CubbyOptions> = {}): Cubby<TestSchema> =>
  connectTestClient<TestSchema>('http://127.0.0.1:9', { auth: offlineToken('alice'), cache: 'memory', connect: false, ...options })

/** A client of `userId` connected to a real server (values in memory: each one is its own device). */
export const serverCubby = (server: TestServer | CliServer, userId: string): Cubby<TestSchema> =>
  connectTestClient<TestSchema>(server.url, { auth: server.token(userId), cache: 'memory' })
