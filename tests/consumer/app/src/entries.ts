// Every public entry point, so that the type-check reads every published declaration file they reach.
import { CUBBY_ERROR_CODES, CubbyError, isCubbyError, type CubbyErrorCode } from '@cubby/protocol'
import { createCubby, type Cubby } from '@cubby/client'
import { createDexieCache, cubbyDexieTables } from '@cubby/client/dexie'
import { CubbyHub, INITIAL_STATUS, LOADING_SNAPSHOT, type CubbyValueSnapshot } from '@cubby/client/bindings'
import { createCubbyServer, type CubbyServer } from '@cubby/server'
import { createRedisBus, createRedisStorage } from '@cubby/redis'
import { CubbyPlugin, useCubby as useVueCubby } from '@cubby/vue'
import { cubby as svelteCubby, setCubbyContext } from '@cubby/svelte'

const code: CubbyErrorCode = 'INVALID_KEY'
export const error: boolean = isCubbyError(new CubbyError(code), CUBBY_ERROR_CODES.INVALID_KEY)
export const makeClient: (url: string) => Cubby<{ a: number }> = (url) => createCubby<{ a: number }>({ url })
export const snapshot: CubbyValueSnapshot<never> = LOADING_SNAPSHOT
export const hubOf = (client: Cubby<{ a: number }>): CubbyHub => CubbyHub.of(client)
export const status: string = INITIAL_STATUS.status
export const makeServer: (dataDir: string) => CubbyServer = (dataDir) => createCubbyServer({ dataDir })
export const dexie = [createDexieCache, cubbyDexieTables] as const
export const redis = [createRedisStorage, createRedisBus] as const
export const vue = [CubbyPlugin, useVueCubby] as const
export const svelte = [svelteCubby, setCubbyContext] as const
