import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * CPU seconds (user + system, every thread) a redis-server has used so far, from its INFO `used_cpu_user` and
 * `used_cpu_sys` (getrusage, microseconds), finer than /proc's 10 ms ticks for a fraction of a second of work.
 */
export async function redisCpuSeconds(redisUrl) {
  const { REDIS_CLI } = await import('@cubby/test-utils')
  const { stdout } = await run(REDIS_CLI, ['-u', redisUrl, 'INFO', 'cpu'], { timeout: 10_000 })
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(stdout)?.[1])
  const seconds = field('used_cpu_user') + field('used_cpu_sys')
  if (!Number.isFinite(seconds)) throw new Error(`redis INFO cpu without used_cpu_user/used_cpu_sys:\n${stdout}`)
  return seconds
}
