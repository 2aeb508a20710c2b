import type { Cubby, CubbyOptions } from '@cubby/client'
import type { TestServer } from '@cubby/test-utils'
import { memoryTestCubby, serverTestCubby } from '@cubby/test-utils/clients'

/** The schema every test of this package uses (the registration below is global to the test program). */
export type TestSchema = { theme: 'dark' | 'light'; count: number; note: string; [key: `todo/${string}`]: { title: string } }

declare module '@cubby/svelte' {
  interface Register {
    cubby: Cubby<TestSchema>
  }
}

export { offlineToken } from '@cubby/test-utils/clients'

/** A client of user `alice` that keeps values in memory and stays offline. */
export const memoryCubby = (options: Partial<CubbyOptions> = {}): Cubby<TestSchema> => memoryTestCubby<TestSchema>(options)

/** A client of `userId` connected to a real server (values in memory: each one is its own device). */
export const serverCubby = (server: TestServer, userId: string): Cubby<TestSchema> => serverTestCubby<TestSchema>(server, userId, 'svelte-device')
