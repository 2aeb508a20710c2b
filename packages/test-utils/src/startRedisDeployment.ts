import { randomBytes } from 'node:crypto'
import { signTestToken } from './signTestToken.js'
import { startRedis, type TestRedis } from './startRedis.js'
import { type CliServer, startCliServer } from './startCliServer.js'

/** Options of {@link startRedisDeployment}. */
export interface RedisDeploymentOptions {
  /** CLI flags every node gets, e.g. `['--max-user-keys', '100']`. @default [] */
  args?: string[]
  /** Environment every node gets besides `CUBBY_SECRET`, `CUBBY_ADMIN_TOKEN` and `CUBBY_REDIS`. @default {} */
  env?: Record<string, string>
  /** The shared `CUBBY_SECRET`, e.g. the one of the LevelDB server a test moves to Redis. @default 32 random bytes */
  secret?: string
}

/** Two `cubby-server` processes on one real Redis, started as an operator starts them: same flags, same secret. */
export interface TestRedisDeployment extends AsyncDisposable {
  /** Node A and node B; each one's `token()` signs with the shared secret. */
  readonly nodes: readonly [CliServer, CliServer]
  readonly redis: TestRedis
  /** The shared `CUBBY_SECRET`. */
  readonly secret: string
  /** The shared `CUBBY_ADMIN_TOKEN`. */
  readonly adminToken: string
  /** A token for `userId` that every node accepts. */
  token(userId: string): string
}

/**
 * Starts a `redis-server` and two `cubby-server --redis` nodes on it (each with its own temp data dir and port),
 * and waits until both listen.
 *
 * @example
 * ```ts
 * await using deployment = await startRedisDeployment()
 * const [a, b] = deployment.nodes
 * ```
 */
export async function startRedisDeployment(options: RedisDeploymentOptions = {}): Promise<TestRedisDeployment> {
  const secret = options.secret ?? randomBytes(32).toString('base64url')
  const adminToken = randomBytes(24).toString('base64url')
  const redis = await startRedis()
  const env = { ...options.env, CUBBY_SECRET: secret, CUBBY_ADMIN_TOKEN: adminToken, CUBBY_REDIS: redis.url }
  const started = await Promise.allSettled([0, 1].map(() => startCliServer({ args: options.args ?? [], env, secret })))
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const close = async (): Promise<void> => {
    try {
      for (const node of nodes) await node[Symbol.asyncDispose]()
    } finally {
      await redis.close()
    }
  }
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) {
    await close()
    throw failed.reason
  }
  return {
    nodes: [nodes[0]!, nodes[1]!],
    redis,
    secret,
    adminToken,
    token: (userId) => signTestToken(secret, userId),
    [Symbol.asyncDispose]: close,
  }
}
