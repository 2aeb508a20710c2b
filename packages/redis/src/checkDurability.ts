import type { Cluster, Redis } from 'ioredis'
import { mastersOf } from './redisUserAdmin.js'

/** The settings an acknowledged write needs to survive a crash or a full memory, and why. */
const REQUIRED: Array<{ name: string; value: string; why: string }> = [
  { name: 'appendonly', value: 'yes', why: 'without the append-only file a crash loses every write since the last RDB snapshot' },
  { name: 'appendfsync', value: 'always', why: 'otherwise a crash loses up to a second of acknowledged writes' },
  { name: 'maxmemory-policy', value: 'noeviction', why: 'any other policy lets Redis drop user data when memory is full' },
]

/** One warning per master and setting that can lose an acknowledged write (or that CONFIG GET could not read). @internal */
export async function checkDurability(redis: Redis | Cluster): Promise<string[]> {
  const warnings: string[] = []
  for (const node of mastersOf(redis)) {
    const where = `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`
    for (const { name, value, why } of REQUIRED) {
      try {
        const [, actual] = await node.config('GET', name)
        if (actual !== value) warnings.push(`Redis ${where}: ${name} is ${actual ?? 'unknown'}, not ${value}: ${why}`)
      } catch (error) {
        warnings.push(`Redis ${where}: could not read ${name} (${error instanceof Error ? error.message : String(error)}); make sure it is ${value}: ${why}`)
      }
    }
  }
  return warnings
}
