import { CubbyError, MAX_MUTATIONS_PER_BATCH, type Mutation, type MutationResult, type PushMessage } from '@cubby/protocol'

/** One push frame of a batch, to answer with its own `ack` once the batch is committed. */
interface BatchPart {
  clientId: string
  mids: number[]
}

/** A batch whose last part has come: everything to commit together, and the parts to answer. */
export interface CompleteBatch {
  clientId: string
  mutations: Mutation[]
  parts: BatchPart[]
}

/**
 * The atomic batch a session is receiving over several push frames (`push.batch`): held until its last part comes,
 * bounded by {@link MAX_MUTATIONS_PER_BATCH} mutations and `maxBytes` of frames, and dropped with the session (the
 * client sends it again whole).
 * @internal
 */
export class OpenBatch {
  readonly #maxBytes: number
  #id: string | undefined
  #clientId = ''
  #mutations: Mutation[] = []
  #parts: BatchPart[] = []
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /**
   * Adds a part (of `bytes` bytes on the wire).
   *
   * @returns The whole batch once its last part is in, else `undefined`.
   * @throws CubbyError `BAD_MESSAGE` for a part of another batch or client while one is open, `MESSAGE_TOO_LARGE`
   *   for a batch over the bounds; the open batch is dropped, and the error is for every part of it.
   */
  add({ clientId, mutations, batch }: PushMessage & { batch: { id: string; last?: true } }, bytes: number): CompleteBatch | undefined {
    if (this.#id !== undefined && (this.#id !== batch.id || this.#clientId !== clientId)) {
      throw new CubbyError('BAD_MESSAGE', 'A part of another batch came before the open batch ended')
    }
    this.#id = batch.id
    this.#clientId = clientId
    this.#parts.push({ clientId, mids: mutations.map((m) => m.mid) })
    this.#bytes += bytes
    for (const m of mutations) this.#mutations.push(m)
    if (this.#mutations.length > MAX_MUTATIONS_PER_BATCH || this.#bytes > this.#maxBytes) {
      throw new CubbyError('MESSAGE_TOO_LARGE', `An atomic batch may hold at most ${MAX_MUTATIONS_PER_BATCH} mutations and ${this.#maxBytes} bytes`)
    }
    if (batch.last !== true) return undefined
    return this.take()
  }

  /** Whether parts of a batch are held. */
  get open(): boolean {
    return this.#id !== undefined
  }

  /** Takes what is open (for an error's answer, or a completed batch) and starts afresh. */
  take(): CompleteBatch {
    const complete = { clientId: this.#clientId, mutations: this.#mutations, parts: this.#parts }
    this.#id = undefined
    this.#mutations = []
    this.#parts = []
    this.#bytes = 0
    return complete
  }
}

/** Splits a batch's results into one `ack` result list per part, in the parts' order. @internal */
export function resultsByPart(parts: readonly BatchPart[], results: readonly MutationResult[]): MutationResult[][] {
  const byMid = new Map(results.map((r) => [r.mid, r]))
  return parts.map((p) => p.mids.map((mid) => byMid.get(mid)!))
}
