import { runCacheContract } from './cache.contract.js'
import { createMemoryCache } from './createMemoryCache.js'

runCacheContract('memory', () => createMemoryCache())
