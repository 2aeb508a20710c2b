import type { Cluster, Redis } from 'ioredis'
import { Counter, type Registry } from 'prom-client'

/** Which of Cubby's Redis connections a count or an error is about. */
export type RedisClientRole = 'storage' | 'bus' | 'bus-subscriber'

/** The counters the storage and the bus share in one registry (whichever registers first creates them). @internal */
export interface RedisCounters {
  commandErrors: Counter<'client' | 'kind'>
  reconnects: Counter<'client'>
  busMessages: Counter<'outcome'>
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] })
}

/** Gets (or creates) the Redis counters in `registry`. @internal */
export function redisCounters(registry: Registry): RedisCounters {
  return {
    commandErrors: counter(registry, 'cubby_redis_command_errors_total', 'Redis commands that failed, by client and kind: connection (no answer), script (a Lua script failed), other', ['client', 'kind']),
    reconnects: counter(registry, 'cubby_redis_reconnects_total', 'Connections to Redis that came back after a loss, by client', ['client']),
    busMessages: counter(registry, 'cubby_redis_bus_messages_total', 'Pub/sub messages the bus received, by outcome: received, dropped (unparseable or malformed)', ['outcome']),
  }
}

/** The kind of a failed command: `connection` when it got no answer, `script` for a Lua script's error, else `other`. @internal */
export function errorKind(error: unknown): 'connection' | 'script' | 'other' {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown }
  if (name !== 'ReplyError') return 'connection'
  return typeof message === 'string' && /script|NOSCRIPT|user_script/i.test(message) ? 'script' : 'other'
}

/**
 * Counts every failed command of `client` (pipelines included: they go through `sendCommand` too) and every
 * reconnect (each `ready` after the first). @internal
 */
export function countRedis(client: Redis | Cluster, role: RedisClientRole, counters: RedisCounters): void {
  for (const kind of ['connection', 'script', 'other'] as const) counters.commandErrors.labels(role, kind).inc(0)
  counters.reconnects.labels(role).inc(0)
  const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown
  ;(client as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args: unknown[]) => {
    const command = args[0] as { name?: string; promise?: Promise<unknown> }
    // ioredis's own CLIENT SETINFO / MAINT_NOTIFICATIONS at connect fail harmlessly on older servers; Cubby sends no CLIENT.
    if (command.name !== 'client') command.promise?.catch((error: unknown) => counters.commandErrors.labels(role, errorKind(error)).inc())
    return send(...args)
  }
  let readyBefore = client.status === 'ready'
  client.on('ready', () => {
    if (readyBefore) counters.reconnects.labels(role).inc()
    readyBefore = true
  })
}
