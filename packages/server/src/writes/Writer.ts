import type { Change, CubbyLimits, Mutation, MutationResult, WireError } from '@cubby/protocol'
import type { CubbyLogger } from '../logger.js'
import type { ServerMetrics } from '../metrics/ServerMetrics.js'
import type { CommitOptions, CubbyStorage } from '../storage/CubbyStorage.js'
import { traceStage } from '../traceStage.js'
import { announceCommit } from '../commitChannel.js'
import { validateMutation } from './validateMutation.js'

/** Receives the changes of every commit, to fan them out to live sessions. */
interface ChangePublisher {
  /** `origin`: the session whose push made the changes (it may leave its own changes out, see `hello.echo`). */
  publish(userId: string, changes: Change[], origin?: object): void
}

/** Where a push came from, and how to answer it. */
export interface PushOrigin {
  /** The session that pushed (compared with the publisher's sessions). */
  readonly session: object
  /**
   * Takes the results, once. After a commit, in the same synchronous step as its changes are published: a
   * session that leaves its own changes out answers before any later change can reach it.
   */
  answer(results: MutationResult[]): void
}

/** Options of one {@link Writer.write}. */
export interface WriteOptions {
  /** The pushing client's id, for exactly-once. */
  clientId?: string | undefined
  /** The session that pushed, answered with the results. */
  origin?: PushOrigin | undefined
  /**
   * When the writer's token was checked (milliseconds since the epoch, taken before the check): the write is
   * refused (`UNAUTHORIZED`) if a deletion of the user at or after that time commits before it (see
   * `CommitOptions.authorizedAt`).
   */
  authorizedAt?: number | undefined
  /** All the mutations or none (see `CommitOptions.atomic`): one invalid mutation refuses them all. */
  atomic?: boolean | undefined
}

/** Now, for {@link WriteOptions.authorizedAt}: take it before a token's check. */
export const authorizationTime = (): number => Date.now()

/** Options of {@link Writer}. */
export interface WriterOptions {
  storage: CubbyStorage
  publisher: ChangePublisher
  limits: CubbyLimits
  logger: CubbyLogger
  metrics: ServerMetrics
}

/** The storage's options for one write (only those that are set, so a storage sees no `undefined`). */
const commitOptions = (authorizedAt: number | undefined, atomic: boolean | undefined): CommitOptions =>
  ({ ...(authorizedAt !== undefined && { authorizedAt }), ...(atomic === true && { atomic }) })

/** For an atomic batch: when one mutation is invalid, every other gets the same code too (nothing is committed). */
function refuseAllIfOne(errors: Array<WireError | undefined>, atomic: boolean): Array<WireError | undefined> {
  const first = atomic ? errors.find((e) => e !== undefined) : undefined
  if (first === undefined) return errors
  return errors.map((e) => e ?? { code: first.code, message: `Another write of its atomic batch was refused: ${first.message}` })
}

const INTERNAL: WireError = { code: 'INTERNAL', message: 'The server could not store the write; retry later' }
const CLOSED: WireError = { code: 'CLOSED', message: 'The server is shutting down; nothing was written' }
const NO_EXPIRY: WireError = { code: 'INVALID_VALUE', message: 'This server\'s storage cannot expire values (no expiry index): store without ttl' }

/** A storage without an expiry index refuses values that expire, rather than keep them for ever. */
const noExpiry = (m: Mutation): WireError | undefined => (m.op === 'store' && m.expiresAt !== undefined ? NO_EXPIRY : undefined)

/**
 * The one write path of the server (WebSocket pushes, HTTP and server-side verbs): validate each mutation,
 * commit the valid ones in one call, publish the changes, and merge everything into results in mid order.
 * @internal
 */
export class Writer {
  readonly #options: WriterOptions
  readonly #inFlight = new Set<Promise<unknown>>()
  #closed = false

  constructor(options: WriterOptions) {
    this.#options = options
  }

  /**
   * Writes mutations of one user. The commit is queued synchronously, so calls keep their order without being
   * awaited one by one. Never rejects: a storage failure becomes `INTERNAL` results, a write after `close()`
   * `CLOSED` results. A push's `origin` is answered with the same results (see {@link PushOrigin.answer}).
   */
  write(userId: string, mutations: Mutation[], { clientId, origin, authorizedAt, atomic }: WriteOptions = {}): Promise<MutationResult[]> {
    if (this.#closed) {
      const results = mutations.map(({ mid }) => ({ mid, error: CLOSED }))
      this.#answer(origin, results)
      return Promise.resolve(results)
    }
    const { storage, limits, metrics } = this.#options
    const queuedAt = performance.now()
    const errors = refuseAllIfOne(mutations.map((m) => validateMutation(m, limits) ?? (storage.sweepExpired === undefined ? noExpiry(m) : undefined)), atomic === true)
    const valid = mutations.filter((_, i) => errors[i] === undefined)
    traceStage('validated')
    // Every mutation's result in mid order; then the changes go out and the push is answered, in one step.
    const finish = (results: MutationResult[], changes: Change[] = []): MutationResult[] => {
      let next = 0
      const merged = mutations.map((m, i): MutationResult => {
        const error = errors[i]
        return error === undefined ? results[next++]! : { mid: m.mid, error }
      })
      this.#publish(userId, changes, origin?.session)
      this.#answer(origin, merged)
      return merged
    }
    const committed = (results: MutationResult[], failed: boolean, at = performance.now()): void => metrics.committed((at - queuedAt) / 1000, results, failed)
    const done = valid.length === 0 ? Promise.resolve().then(() => finish([])) : storage.commit(userId, valid, clientId, commitOptions(authorizedAt, atomic)).then(
      ({ results, changes }) => {
        // The changes go out and the push is answered first; the metrics are not on the way to the other devices.
        const at = performance.now()
        const merged = finish(results, changes)
        committed(results, false, at)
        announceCommit(results)
        return merged
      },
      (error: unknown) => {
        this.#options.logger.error(`Commit of ${valid.length} mutation(s) failed`, error, { event: 'storage-error', operation: 'commit', mutations: valid.length })
        const results = valid.map(({ mid }): MutationResult => ({ mid, error: INTERNAL }))
        committed(results, true)
        return finish(results)
      },
    )
    // Mutations refused before the storage (invalid keys, values) count too, by their code.
    if (valid.length < mutations.length) metrics.mutations(errors.flatMap((error, i) => (error === undefined ? [] : [{ mid: mutations[i]!.mid, error }])))
    this.#inFlight.add(done)
    void done.finally(() => this.#inFlight.delete(done))
    return done
  }

  /** Refuses new writes (`CLOSED`) and resolves once every write started before has finished. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #publish(userId: string, changes: Change[], origin: object | undefined): void {
    try {
      if (changes.length > 0) this.#options.publisher.publish(userId, changes, origin)
    } catch (error) {
      this.#options.logger.error('Publishing changes failed', error)
    }
  }

  #answer(origin: PushOrigin | undefined, results: MutationResult[]): void {
    try {
      origin?.answer(results)
    } catch (error) {
      this.#options.logger.error('Could not answer a push', error)
    }
  }
}
