import type { CubbyErrorCode, MutationResult } from '@cubby/protocol'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CubbyLogger } from '../logger.js'
import { RefusalLog } from './RefusalLog.js'

/** Why a sync session catches up: from cursor 0 (`snapshot`), from the change log (`log`), or after a missed message (`gap`). */
export type CatchUpReason = 'snapshot' | 'log' | 'gap'

/** Where a storage operation failed, for `cubby_storage_errors_total`. */
export type StorageErrorOperation = 'commit' | 'read'

/**
 * A refusal's bounded second label: the limit that was hit (`RATE_LIMITED`), the token's fault (`UNAUTHORIZED`),
 * or what was too large. Never a user id, key or address.
 */
export type RefusalKind =
  | 'address' | 'identity' | 'frames' | 'busy' | 'connections' | 'address-connections' | 'user-connections'
  | 'missing' | 'invalid' | 'expired' | 'revoked' | 'deleted' | 'admin'
  | 'hello' | 'body' | 'headers' | 'origin' | 'mutation' | 'link-codes' | ''

/** Gauges read when scraped, so that the hot paths count nothing for them. Not part of the public API. */
export interface MetricsSources {
  /** Open TCP connections of `listen()` (0 when the server is mounted elsewhere). */
  tcpConnections(): number
  /** Open sync WebSockets, with or without a session. */
  syncSockets(): number
  /** Sessions that said hello and were welcomed. */
  sessions(): number
}

const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The server's Prometheus metrics, in a registry of its own (several servers in one process do not collide).
 * Every method is O(1) per event and labels are bounded enums: no user id, key or address ever becomes a label.
 * Not part of the public API; its declaration ships because the writer's declaration imports it.
 */
export class ServerMetrics {
  readonly registry: Registry = new Registry()
  readonly #commitSeconds: Histogram<'result'>
  readonly #commitOk: Histogram.Internal<'result'>
  readonly #commitError: Histogram.Internal<'result'>
  readonly #mutations: Counter<'result'>
  readonly #mutationsOk: Counter.Internal
  readonly #fanoutMessages: Counter
  readonly #fanoutChanges: Counter
  readonly #catchUps: Counter<'reason'>
  readonly #refusals: Counter<'code' | 'kind'>
  readonly #storageErrors: Counter<'operation'>
  readonly #log: RefusalLog
  #sources: MetricsSources = { tcpConnections: () => 0, syncSockets: () => 0, sessions: () => 0 }

  /** `logWindowMs`: refusals are logged at most once per reason per window, with their count. */
  constructor(logger: CubbyLogger, logWindowMs?: number) {
    this.#log = new RefusalLog(logger, logWindowMs)
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'cubby_' })
    const gauge = (name: string, help: string, read: (s: MetricsSources) => number): void => {
      const sources = (): MetricsSources => this.#sources
      new Gauge({ name, help, registers, collect() { this.set(read(sources())) } })
    }
    gauge('cubby_tcp_connections', 'Open TCP connections (HTTP and WebSocket) of the server started by listen()', (s) => s.tcpConnections())
    gauge('cubby_sync_sockets', 'Open sync WebSockets, before and after their hello', (s) => s.syncSockets())
    gauge('cubby_sessions', 'Live sync sessions (welcomed sockets) on this node', (s) => s.sessions())
    this.#commitSeconds = new Histogram({
      name: 'cubby_commit_duration_seconds', help: 'Commits from queueing to durable (or failed), in seconds; the count is the number of commits',
      labelNames: ['result'], buckets: COMMIT_BUCKETS, registers,
    })
    this.#commitOk = this.#commitSeconds.labels('ok')
    this.#commitError = this.#commitSeconds.labels('error')
    this.#mutations = new Counter({ name: 'cubby_mutations_total', help: 'Mutations written, by result: ok or the error code', labelNames: ['result'], registers })
    this.#fanoutMessages = new Counter({ name: 'cubby_fanout_deliveries_total', help: 'Commits handed to live sessions (one per session reached)', registers })
    this.#fanoutChanges = new Counter({ name: 'cubby_fanout_changes_total', help: 'Changes handed to live sessions (changes times sessions reached)', registers })
    this.#catchUps = new Counter({ name: 'cubby_catchups_total', help: 'Sessions that caught up, by reason: snapshot (cursor 0), log, gap', labelNames: ['reason'], registers })
    this.#refusals = new Counter({ name: 'cubby_refusals_total', help: 'Requests, connections and mutations refused, by error code and limit kind', labelNames: ['code', 'kind'], registers })
    this.#storageErrors = new Counter({ name: 'cubby_storage_errors_total', help: 'Storage operations that failed (answered INTERNAL), by operation', labelNames: ['operation'], registers })
    this.#mutationsOk = this.#mutations.labels('ok')
    // Shown at 0 from the start, so that rate() and alerts see the first event.
    for (const result of ['ok', 'error']) this.#commitSeconds.zero({ result })
    this.#mutationsOk.inc(0)
    for (const reason of ['snapshot', 'log', 'gap'] as const) this.#catchUps.labels(reason).inc(0)
    for (const operation of ['commit', 'read'] as const) this.#storageErrors.labels(operation).inc(0)
  }

  /** Where the gauges read their values. */
  setSources(sources: MetricsSources): void {
    this.#sources = sources
  }

  /** A commit ended `seconds` after it was queued, with these results. */
  committed(seconds: number, results: readonly MutationResult[], failed: boolean): void {
    ;(failed ? this.#commitError : this.#commitOk).observe(seconds)
    if (failed) this.#storageErrors.labels('commit').inc()
    this.mutations(results)
  }

  /** Counts mutation results by `ok` or error code; quota and full-storage errors are also refusals. */
  mutations(results: readonly MutationResult[]): void {
    for (const result of results) {
      if (!('error' in result)) {
        this.#mutationsOk.inc()
        continue
      }
      const { code } = result.error
      this.#mutations.labels(code).inc()
      if (code === 'QUOTA_EXCEEDED' || code === 'STORAGE_FULL') this.refused(code, 'mutation')
      else if (code === 'UNAUTHORIZED') this.refused(code, 'deleted')
    }
  }

  /** A commit's `changes` reached `sessions` live sessions. */
  fannedOut(sessions: number, changes: number): void {
    if (sessions === 0) return
    this.#fanoutMessages.inc(sessions)
    this.#fanoutChanges.inc(sessions * changes)
  }

  /** A session starts catching up. The bus calls this with `gap` when it re-reads the log after a missed message. */
  catchUp(reason: CatchUpReason): void {
    this.#catchUps.labels(reason).inc()
  }

  /** Something was refused where the limit was decided: counted, and logged aggregated per code and kind. */
  refused(code: CubbyErrorCode, kind: RefusalKind = ''): void {
    this.#refusals.labels(code, kind).inc()
    this.#log.refused(kind === '' ? code : `${code}:${kind}`)
  }

  /** Logs the refusals counted but not yet logged. */
  close(): void {
    this.#log.close()
  }

  /** A storage operation failed (the caller logs it). */
  storageError(operation: StorageErrorOperation): void {
    this.#storageErrors.labels(operation).inc()
  }

  /** The exposition text, for `GET /metrics`. */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }

  /** The content type of {@link scrape}. */
  get contentType(): string {
    return this.registry.contentType
  }
}
