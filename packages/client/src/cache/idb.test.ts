import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { beforeEach } from 'vitest'
import { runCacheContract } from './cache.contract.js'
import { createIdbCache } from './createIdbCache.js'

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

runCacheContract('idb-keyval', () => createIdbCache({ name: 'contract' }))
