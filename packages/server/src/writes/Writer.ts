import type { Change, CubbyLimits, Mutation, MutationResult, WireError } from '@cubby/protocol'
import type { CubbyLogger } from '../logger.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import { validateMutation } from './validateMutation.js'

/** Receives the changes of every commit, to fan them out to live sessions. */
export interface ChangePublisher {
  publish(userId: string, changes: Change[]): void
}

/** Options of {@link Writer}. */
export interface WriterOptions {
  storage: CubbyStorage
  publisher: ChangePublisher
  limits: CubbyLimits
  logger: CubbyLogger
}

const INTERNAL: WireError = { code: 'INTERNAL', message: 'The server could not store the write; retry later' }
const CLOSED: WireError = { code: 'CLOSED', message: 'The server is shutting down; nothing was written' }

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
   * `CLOSED` results.
   */
  write(userId: string, mutations: Mutation[], clientId?: string): Promise<MutationResult[]> {
    if (this.#closed) return Promise.resolve(mutations.map(({ mid }) => ({ mid, error: CLOSED })))
    const { storage, limits } = this.#options
    const errors = mutations.map((m) => validateMutation(m, limits))
    const valid = mutations.filter((_, i) => errors[i] === undefined)
    const committed = valid.length === 0 ? Promise.resolve([]) : storage.commit(userId, valid, clientId).then(
      ({ results, changes }) => {
        this.#publish(userId, changes)
        return results
      },
      (error: unknown) => {
        this.#options.logger.error(`Commit of ${valid.length} mutation(s) failed`, error)
        return valid.map(({ mid }): MutationResult => ({ mid, error: INTERNAL }))
      },
    )
    const done = committed.then((results) => {
      let next = 0
      return mutations.map((m, i): MutationResult => {
        const error = errors[i]
        return error === undefined ? results[next++]! : { mid: m.mid, error }
      })
    })
    this.#inFlight.add(done)
    void done.finally(() => this.#inFlight.delete(done))
    return done
  }

  /** Refuses new writes (`CLOSED`) and resolves once every write started before has finished. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #publish(userId: string, changes: Change[]): void {
    try {
      if (changes.length > 0) this.#options.publisher.publish(userId, changes)
    } catch (error) {
      this.#options.logger.error('Publishing changes failed', error)
    }
  }
}
