import { CubbyError, type CubbyLimits, DEFAULT_LIMITS, type ExpiryInput, MAX_MUTATIONS_PER_BATCH, assertValidKey, resolveExpiresAt, utf8Length } from '@cubby/protocol/core'
import type { CubbyEventMap, CubbyChangeDetail, CubbyStatus, StopReason } from './CubbyEventMap.js'
import type { CubbyOptions, SignOutOptions } from './CubbyOptions.js'
import type { MutationInput, Replica, ReplicaHooks } from './Replica.js'
import type { Session } from './loadReplica.js'
import { StorageGuard } from './cache/StorageGuard.js'
import { type CubbyStorage, browserStorage } from './cache/CubbyStorage.js'
import type { CubbyStorageStats } from './cache/storageStats.js'
import type { ListOptions } from './state/KeyIndex.js'
import { deleteInput, storeInput } from './state/mutationInputs.js'
import { asCubbyError } from './asCubbyError.js'
import { Link, type LinkEvents } from './sync/Link.js'
import { type CubbyEntryInfo, type CubbyTransaction, type CubbyWrite, type UpdateOptions, type WriteConditionOptions, conditionOf, cubbyWrite, refusedWrite } from './CubbyWrite.js'
import type { Updater } from './updates/Updater.js'
import type { CubbyDevices, DeviceContext } from './devices/CubbyDevices.js'
import { lazyDevices } from './devices/lazyDevices.js'
import type { WriteExtras } from './Replica.js'
import type { ClientParts, ClientSeat } from './account/ClientSeat.js'
import type { SignInOptions, SignInResult } from './account/SignInOptions.js'

/** The keys of a schema. */
export type CubbyKey<TSchema> = keyof TSchema & string

/** A listener of one Cubby event. */
export type CubbyListener<TType extends keyof CubbyEventMap> =
  | ((event: CubbyEventMap[TType]) => void)
  | { handleEvent(event: CubbyEventMap[TType]): void }

/**
 * Options of {@link Cubby.store}: when the value expires, as a `ttl` in ms or an `expiresAt` moment (server time),
 * and a condition (`ifVersion`, `ifAbsent`) checked by the server.
 */
export type StoreOptions = ExpiryInput & WriteConditionOptions

/** A `[key, value]` pair of a schema. */
export type CubbyEntry<TSchema> = { [K in CubbyKey<TSchema>]: [key: K, value: TSchema[K]] }[CubbyKey<TSchema>]

/** What {@link Cubby.stats} returns. */
export interface CubbyStats {
  /** The local cache's failures and state. */
  storage: CubbyStorageStats
}

const closedError = (): CubbyError => new CubbyError('CLOSED', 'This Cubby client is closed')

/** Puts the condition of write options on a store or delete. */
function withCondition(input: MutationInput, options: WriteConditionOptions | undefined): MutationInput {
  const condition = conditionOf(options)
  if (condition !== undefined && input.op !== 'clear') input.if = condition
  return input
}

let batches = 0
/** A batch id for `push.batch`: unique among this page's batches, which is all the server compares. */
const newBatchId = (): string => `${Date.now().toString(36)}-${(++batches).toString(36)}`

/**
 * A user's values on this device: read instantly from memory, written offline through a durable outbox,
 * kept in sync with the server over one WebSocket. Create it with {@link createCubby}.
 *
 * Values returned by `get`, `getMany`, `entries` and events are shared with the client's memory: treat them
 * as read-only (store a new value instead of changing one in place).
 *
 * @example
 * ```ts
 * await using cubby = createCubby<{ draft: string }>({ url: 'https://cubby.example.com', auth: getToken })
 * cubby.addEventListener('change', (e) => e.detail.keys.includes('draft') && render())
 * await cubby.store('draft', 'Hello')
 * ```
 */
export class Cubby<TSchema extends Record<string, unknown> = Record<string, unknown>> extends EventTarget {
  /**
   * Listens to an event of {@link CubbyEventMap}. (Typed like the DOM's own: a listener may return anything.)
   *
   * @example
   * ```ts
   * cubby.addEventListener('change', (e) => render(e.detail.keys))
   * ```
   */
  override addEventListener<TType extends keyof CubbyEventMap>(
    type: TType,
    listener: CubbyListener<TType> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener !== null) this.#listened.add(type)
    super.addEventListener(type, listener as EventListener | null, options)
  }
  /** Removes a listener added with {@link addEventListener}. */
  declare removeEventListener: <TType extends keyof CubbyEventMap>(
    type: TType,
    listener: CubbyListener<TType> | null,
    options?: boolean | EventListenerOptions,
  ) => void
  /**
   * The event types that ever had a listener: an event nobody listens to is not made (a `change` and a `pending`
   * event per store were a large part of a store's cost). Never shrinks, so no listener can miss an event.
   */
  readonly #listened = new Set<string>()
  #options: CubbyOptions
  readonly #limits: CubbyLimits
  /** The connection state and the uplink: frames go uplink → replica → the hooks below → events. */
  #link: Link
  #loaded: Promise<Replica>
  readonly #ready: Promise<void>
  readonly #abort = new AbortController()
  #resolveReady!: () => void
  #rejectReady!: (error: unknown) => void
  #replica: Replica | undefined
  /** Stores made before the load whose `ttl` the device's clock measured (see {@link #timed}). */
  readonly #deviceTimed = new WeakSet<MutationInput>()
  #session: Session | undefined
  readonly #storage: StorageGuard
  #closing: Promise<void> | undefined
  /** Runs `update` on the loaded replica (made on the first call). */
  #updater: { replica: Replica; updater: Updater } | undefined
  /** The class of {@link #updater}, loaded with the replica. */
  #Updater: typeof Updater | undefined
  #devices: CubbyDevices<Cubby<TSchema>> | undefined

  /**
   * Starts loading and (unless `connect: false`) connecting. Prefer {@link createCubby}, which checks the options.
   *
   * @example
   * ```ts
   * const cubby = new Cubby<{ theme: string }>({ url: 'https://cubby.example.com' })
   * ```
   */
  constructor(options: CubbyOptions) {
    super()
    this.#options = options
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.#storage = new StorageGuard(options.cache, options.name, {
      error: (error, lostWrites) => this.#emit('error', lostWrites === undefined ? { error } : { error, lostWrites }),
      persistence: () => this.#hooks.status(this.status),
    })
    this.#link = new Link(options, this.#hooks)
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.#ready.catch(() => {})
    this.#loaded = this.#load()
    this.#loaded.catch((error: unknown) => {
      this.#rejectReady(error)
      this.#link.offline()
      if (!this.#closing) this.#hooks.error(asCubbyError(error, 'STORAGE_ERROR'))
    })
  }

  // ---------------------------------------------------------------- state

  /** Connection state: `online` only once the catch-up after connecting is complete. */
  get status(): CubbyStatus {
    return this.#link.status
  }

  /** Whether values outlive the page: false before the cache is open and when it fell back to memory. */
  get persistent(): boolean {
    return this.#replica?.cache.persistent ?? false
  }

  /**
   * How this client works with the other tabs of its app and user, once loaded (a `status` event follows the
   * load): `coordinate`, one tab connects for all; `independent`, each tab connects on its own: when asked to,
   * with a memory cache, or where the page has no Web Locks or BroadcastChannel, as on plain http from a host
   * other than localhost, which is no secure context.
   */
  get tabs(): 'coordinate' | 'independent' {
    return this.#link.coordinated ? 'coordinate' : 'independent'
  }

  /**
   * The browser's storage of this origin: usage and quota, and asking the browser to keep it.
   *
   * @example
   * ```ts
   * if (userSavedSomething) await cubby.storage.persist()
   * ```
   */
  readonly storage: CubbyStorage = browserStorage

  /**
   * Counters for an app's telemetry: storage failures by kind, reopens, evictions, lost writes, and whether the
   * cache is full or working from memory now. A copy: call again for newer numbers.
   *
   * @example
   * ```ts
   * report('cubby-storage', cubby.stats().storage.failures)
   * ```
   */
  stats(): CubbyStats {
    return { storage: structuredClone(this.#storage.stats) }
  }

  /** The user whose values these are, once known (after the initial load). */
  get userId(): string | undefined {
    return this.#session?.userId
  }

  /**
   * The user's devices (through the server): link another device with a one-time code, list and revoke them, and
   * redeem a code made on another device. See docs/protocol.md, "Devices and link codes".
   *
   * @example
   * ```ts
   * const { url } = await cubby.devices.link({ pageUrl: location.href }) // show it as a QR code
   * ```
   */
  get devices(): CubbyDevices<Cubby<TSchema>> {
    this.#devices ??= lazyDevices(() => this.#deviceContext())
    return this.#devices
  }

  /** How many writes the server has not acknowledged yet. */
  get pendingCount(): number {
    return this.#replica?.pendingCount ?? 0
  }

  /**
   * Tells whether `key` has a write the server has not acknowledged yet (a pending `clear` counts for every key).
   *
   * @example
   * ```ts
   * if (cubby.isPending('draft')) showSavingIndicator()
   * ```
   */
  isPending(key: CubbyKey<TSchema>): boolean {
    return this.#replica?.isPending(key) ?? false
  }

  /**
   * Resolves when the first catch-up with the server after loading is complete, never before.
   *
   * @throws CubbyError `CLOSED` if the client is closed first (or the load error if loading failed).
   * @example
   * ```ts
   * await cubby.ready()
   * render(await cubby.get('settings'))
   * ```
   */
  ready(): Promise<void> {
    return this.#ready
  }

  /**
   * Resolves when every write made so far has been acknowledged by the server (rejected writes count as
   * settled: they are reported as `error` events).
   *
   * @throws CubbyError `CLOSED` if the client is closed first.
   * @example
   * ```ts
   * await cubby.store('doc', doc)
   * await cubby.synced() // now on the server
   * ```
   */
  async synced(): Promise<void> {
    return (await this.#use()).synced()
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads a value from memory (after the initial load, never from IndexedDB). The value is shared: do not mutate it.
   *
   * @returns The value, or undefined when the key has none.
   * @throws TypeError for a key that is not a string; CubbyError `INVALID_KEY`.
   * @example
   * ```ts
   * const theme = await cubby.get('theme') // 'dark' | 'light' | undefined
   * ```
   */
  async get<TKey extends CubbyKey<TSchema>>(key: TKey): Promise<TSchema[TKey] | undefined> {
    assertValidKey(key, this.#limits.maxKeyBytes)
    return (await this.#use()).get(key)?.value as TSchema[TKey] | undefined
  }

  /**
   * Reads several values at once, in the order of `keys`.
   *
   * @example
   * ```ts
   * const [a, b] = await cubby.getMany(['a', 'b'])
   * ```
   */
  async getMany<TKey extends CubbyKey<TSchema>>(keys: readonly TKey[]): Promise<Array<TSchema[TKey] | undefined>> {
    for (const key of keys) assertValidKey(key, this.#limits.maxKeyBytes)
    const replica = await this.#use()
    return keys.map((key) => replica.get(key)?.value as TSchema[TKey] | undefined)
  }

  /**
   * Reads a value synchronously, for `useSyncExternalStore` and other bindings: undefined until the initial
   * load is done. The value is shared: do not mutate it.
   *
   * @example
   * ```ts
   * const theme = useSyncExternalStore(cubby.subscribe, () => cubby.getSnapshot('theme'))
   * ```
   */
  getSnapshot<TKey extends CubbyKey<TSchema>>(key: TKey): TSchema[TKey] | undefined {
    return this.#replica?.get(key)?.value as TSchema[TKey] | undefined
  }

  /**
   * Lists keys in code point order (the server's order), a page at a time: pass the last key of a page as `after`.
   *
   * @example
   * ```ts
   * const page = await cubby.list({ prefix: 'todo/', limit: 50 })
   * const next = await cubby.list({ prefix: 'todo/', limit: 50, after: page.at(-1) })
   * ```
   */
  async list(options?: ListOptions): Promise<Array<CubbyKey<TSchema>>> {
    return (await this.#use()).list(options)
  }

  /**
   * Lists `[key, value]` pairs, with the options and order of {@link list}. Values are shared: do not mutate them.
   *
   * @example
   * ```ts
   * for (const [key, todo] of await cubby.entries({ prefix: 'todo/' })) console.log(key, todo)
   * ```
   */
  async entries(options?: ListOptions): Promise<Array<CubbyEntry<TSchema>>> {
    const replica = await this.#use()
    return replica.list(options).map((key) => [key, replica.get(key)!.value] as CubbyEntry<TSchema>)
  }

  /** Runs a tracked write on the replica, now when it is loaded, else once it is (refused once the client closes). */
  #tracking(run: (replica: Replica) => { durable: Promise<void>; settled: Promise<void> }): CubbyWrite {
    if (this.#replica) {
      const { durable, settled } = run(this.#replica)
      return cubbyWrite(durable, settled)
    }
    const started = this.#loaded.then((replica) => {
      if (this.#closing) throw closedError()
      return run(replica)
    })
    return cubbyWrite(started.then((r) => r.durable), started.then((r) => r.settled))
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores a value under a key. The value is encoded (and copied) at once; memory and the `change` event
   * update synchronously; the promise resolves once the write is durable in the local outbox. The server
   * gets it when online; a rejection there rolls it back and emits `error`.
   *
   * @throws TypeError for a key that is not a string; CubbyError `INVALID_KEY`, `INVALID_VALUE` (functions,
   * symbols, whatever structuredClone rejects, and `undefined` itself: use {@link delete}; nothing is written;
   * `undefined` inside a value is kept, and a `ttl` or `expiresAt` out of range), `VALUE_TOO_LARGE`, `STORAGE_ERROR`
   * (rolled back), `CLOSED`.
   * @param options `ttl` (ms) or `expiresAt` (a `Date` or ms since the epoch): from that moment, on the server's
   * clock, the key is gone everywhere (a `change` event reports its deletion). A store without either clears the expiry.
   * @example
   * ```ts
   * await cubby.store('cart', [{ sku: 'A1', qty: 2 }])
   * await cubby.store('draft', text, { ttl: 60 * 60 * 1000 }) // gone in an hour
   * ```
   */
  store<TKey extends CubbyKey<TSchema>>(key: TKey, value: TSchema[TKey], options?: ExpiryInput): Promise<void>
  /**
   * Stores a value if the server's version of the key is still `ifVersion` (or the key is absent, `ifAbsent`),
   * checked when the write reaches the server, also after being offline. Rejected: `CONFLICT`, rolled back here to
   * the server's value, an `error` event, and `settled` rejects.
   *
   * @returns Resolves once durable locally; its `settled` once the server decided.
   * @example
   * ```ts
   * const { version } = await cubby.getEntry('seat')
   * await cubby.store('seat', me, { ifVersion: version }).settled
   * ```
   */
  store<TKey extends CubbyKey<TSchema>>(key: TKey, value: TSchema[TKey], options: StoreOptions): CubbyWrite
  store<TKey extends CubbyKey<TSchema>>(key: TKey, value: TSchema[TKey], options?: StoreOptions): Promise<void> | CubbyWrite {
    if (options?.ifVersion === undefined && options?.ifAbsent !== true) {
      // The common case without a closure or an array per store: many stores in a tick are most of a busy client's work.
      let input: MutationInput
      try {
        if (this.#closing) throw closedError()
        input = this.#timed(storeInput(key, value, this.#limits, this.#expiresAt(options)), options)
      } catch (error) {
        return Promise.reject(error)
      }
      return this.#replica ? this.#replica.writeOne(input) : this.#writeLoaded([input])
    }
    return this.#tracked(() => [withCondition(this.#timed(storeInput(key, value, this.#limits, this.#expiresAt(options)), options), options)])
  }

  /**
   * Stores several values atomically: all or none reach the local cache, in one transaction.
   *
   * @throws As {@link store}; one invalid entry stores none.
   * @example
   * ```ts
   * await cubby.storeMany([['a', 1], ['b', 2]])
   * ```
   */
  storeMany(entries: ReadonlyArray<CubbyEntry<TSchema>>, options?: StoreOptions): Promise<void> {
    return this.#write(() => {
      const expiresAt = this.#expiresAt(options)
      return entries.map(([key, value]) => this.#timed(storeInput(key, value, this.#limits, expiresAt), options))
    })
  }

  /**
   * The `expiresAt` of a store's options on the server's clock (the device's own before it met the server). Before
   * the cache has loaded, a `ttl` is measured on the device's clock; {@link #timed} moves it once the load tells
   * the offset kept from the last `welcome`.
   */
  #expiresAt(options: StoreOptions | undefined): number | undefined {
    if (options === undefined || (options.ttl === undefined && options.expiresAt === undefined)) return undefined
    const now = this.#replica?.clock.now() ?? (this.#options.now ?? Date.now)()
    return resolveExpiresAt(options, now)
  }

  /** Notes a store whose `ttl` was measured on the device's clock because the cache had not loaded yet. */
  #timed(input: MutationInput, options: StoreOptions | undefined): MutationInput {
    if (this.#replica === undefined && options?.ttl !== undefined) this.#deviceTimed.add(input)
    return input
  }

  /** Moves the expiries of stores noted by {@link #timed} onto the server's clock, by the loaded replica's offset. */
  #onServerClock(inputs: readonly MutationInput[], replica: Replica): void {
    const { offset } = replica.clock
    for (const input of inputs) if (input.op === 'store' && input.expiresAt !== undefined && this.#deviceTimed.delete(input)) input.expiresAt += offset
  }

  /**
   * Deletes a key (a no-op for a key without a value, though it still reaches the server).
   *
   * @throws TypeError for a key that is not a string; CubbyError `INVALID_KEY`, `STORAGE_ERROR`, `CLOSED`.
   * @example
   * ```ts
   * await cubby.delete('draft')
   * ```
   */
  delete(key: CubbyKey<TSchema>): Promise<void>
  /**
   * Deletes a key on a condition, as the conditional {@link store}.
   *
   * @example
   * ```ts
   * await cubby.delete('lock', { ifVersion: lock.version }).settled
   * ```
   */
  delete(key: CubbyKey<TSchema>, options: WriteConditionOptions): CubbyWrite
  delete(key: CubbyKey<TSchema>, options?: WriteConditionOptions): Promise<void> | CubbyWrite {
    if (options === undefined) return this.#write(() => [deleteInput(key, this.#limits)])
    return this.#tracked(() => [withCondition(deleteInput(key, this.#limits), options)])
  }

  /**
   * Read-modify-write: runs `fn` on the key's current value and stores what it returns (`undefined` deletes the
   * key) on the condition that the server's version is still the one `fn` saw. On `CONFLICT` it runs `fn` again
   * on the server's value, up to `retries` times, so that increments made on several devices, online or
   * offline, all count. `fn` may run several times: keep it free of side effects. The functions live in this
   * page and do not survive a reload: a conflict found after a reload is reported as `CONFLICT` (`error` event,
   * rolled back) instead of retried.
   *
   * @returns Resolves once durable locally; its `settled` once the server accepted the result.
   * @example
   * ```ts
   * await cubby.update('visits', (n = 0) => n + 1)
   * ```
   */
  update<TKey extends CubbyKey<TSchema>>(key: TKey, fn: (current: TSchema[TKey] | undefined) => TSchema[TKey] | undefined, options: UpdateOptions = {}): CubbyWrite {
    const { retries = 10 } = options
    try {
      if (this.#closing) throw closedError()
      assertValidKey(key, this.#limits.maxKeyBytes)
      if (typeof fn !== 'function') throw new TypeError('update: fn must be a function')
      if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError('update: retries must be a non-negative integer')
    } catch (error) {
      return refusedWrite(error)
    }
    const run = (replica: Replica): { durable: Promise<void>; settled: Promise<void> } =>
      this.#updaterOf(replica).update(key, fn as (value: unknown) => unknown, retries)
    return this.#tracking(run)
  }

  /**
   * Applies several writes all or none, on this device and on the server, with their conditions checked together
   * (against the server's state before the batch). One failed condition rejects every write of the batch with
   * `CONFLICT`, and each is rolled back here.
   *
   * @throws TypeError or CubbyError as {@link store} for a bad write (nothing is written); `MESSAGE_TOO_LARGE` for
   *   a batch of more than 10 000 writes or more bytes than `maxMessageBytes`.
   * @example
   * ```ts
   * await cubby.batch((tx) => {
   *   tx.store('seat/12', me, { ifAbsent: true })
   *   tx.delete('seat/11', { ifVersion: mine.version })
   * }).settled
   * ```
   */
  batch(build: (tx: CubbyTransaction<TSchema>) => void): CubbyWrite {
    return this.#tracked(() => {
      const inputs: MutationInput[] = []
      build({
        store: (key, value, options) => void inputs.push(withCondition(this.#timed(storeInput(key, value, this.#limits, this.#expiresAt(options)), options), options)),
        delete: (key, options) => void inputs.push(withCondition(deleteInput(key, this.#limits), options)),
      })
      const bytes = inputs.reduce((n, i) => n + (i.op === 'clear' ? 0 : utf8Length(i.key) + (i.op === 'store' ? utf8Length(i.value) : 0)), 0)
      if (inputs.length > MAX_MUTATIONS_PER_BATCH || bytes > this.#limits.maxMessageBytes) {
        throw new CubbyError('MESSAGE_TOO_LARGE', `A batch may hold at most ${MAX_MUTATIONS_PER_BATCH} writes and ${this.#limits.maxMessageBytes} bytes`)
      }
      return inputs
    }, { batch: newBatchId() })
  }

  /**
   * Reads a key with the server's version it builds on (for `ifVersion`) and whether a write of it is pending.
   *
   * @example
   * ```ts
   * const { value, version } = await cubby.getEntry('seat')
   * ```
   */
  async getEntry<TKey extends CubbyKey<TSchema>>(key: TKey): Promise<CubbyEntryInfo<TSchema[TKey]>> {
    assertValidKey(key, this.#limits.maxKeyBytes)
    await this.#use()
    return this.getEntrySnapshot(key)
  }

  /**
   * As {@link getEntry}, synchronously, for bindings: value `undefined` and version 0 until the initial load.
   *
   * @example
   * ```ts
   * const { version } = cubby.getEntrySnapshot('seat')
   * ```
   */
  getEntrySnapshot<TKey extends CubbyKey<TSchema>>(key: TKey): CubbyEntryInfo<TSchema[TKey]> {
    const replica = this.#replica
    if (replica === undefined) return { value: undefined, version: 0, pending: false }
    const last = replica.lastWrite(key)
    const acked = last?.ackedRev !== undefined && last.mutation.op === 'store' ? last.ackedRev : 0
    return {
      value: replica.get(key)?.value as TSchema[TKey] | undefined,
      version: Math.max(replica.confirmed(key).version, acked),
      pending: replica.isPending(key),
    }
  }

  /**
   * Deletes several keys atomically.
   *
   * @example
   * ```ts
   * await cubby.deleteMany(['a', 'b'])
   * ```
   */
  deleteMany(keys: ReadonlyArray<CubbyKey<TSchema>>): Promise<void> {
    return this.#write(() => keys.map((key) => deleteInput(key, this.#limits)))
  }

  /**
   * Deletes every key of this user, on every device, through the server.
   *
   * @example
   * ```ts
   * await cubby.clear()
   * ```
   */
  clear(): Promise<void> {
    return this.#write(() => [{ op: 'clear', mid: 0 }])
  }

  // ---------------------------------------------------------------- connection and lifecycle

  /**
   * Connects (after `connect: false` or `disconnect()`), and keeps reconnecting with backoff.
   *
   * @example
   * ```ts
   * onlineToggle.onchange = () => (onlineToggle.checked ? cubby.connect() : cubby.disconnect())
   * ```
   */
  connect(): void {
    if (!this.#closing) this.#link.connect()
  }

  /**
   * Closes the connection and stays offline until {@link connect}; writes keep going to the local outbox.
   *
   * @example
   * ```ts
   * cubby.disconnect()
   * ```
   */
  disconnect(): void {
    this.#link.disconnect()
  }

  /**
   * Calls `listener` whenever visible values change; returns the function that unsubscribes it.
   *
   * @example
   * ```ts
   * const unsubscribe = cubby.subscribe(({ keys }) => console.log('changed', keys))
   * ```
   */
  subscribe = (listener: (detail: CubbyChangeDetail) => void): (() => void) => {
    const controller = new AbortController()
    this.addEventListener('change', (event) => listener(event.detail), { signal: controller.signal })
    return () => controller.abort()
  }

  /**
   * Signs this device out: waits for pending writes to reach the server (unless discarding them), then closes
   * the connection, deletes this user's local database and the stored identity, and closes the client.
   *
   * @throws CubbyError `PENDING_WRITES` when writes are still pending after `timeoutMs` (go online, or pass
   * `discardPending: true`); `CLOSED`.
   * @example
   * ```ts
   * await cubby.signOut({ timeoutMs: 5_000 })
   * ```
   */
  async signOut({ discardPending = false, timeoutMs = 10_000 }: SignOutOptions = {}): Promise<void> {
    const replica = await this.#use()
    if (!discardPending && replica.pendingCount > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timedOut = new Promise<true>((resolve) => (timer = setTimeout(resolve, timeoutMs, true)))
      const late = await Promise.race([replica.synced().then(() => false), timedOut]).finally(() => clearTimeout(timer))
      if (late) {
        const n = replica.pendingCount
        throw new CubbyError('PENDING_WRITES', `${n} write(s) not on the server yet: go online, or pass discardPending`)
      }
    }
    if (this.#closing) throw closedError()
    this.#link.announceGone('CLOSED', 'Signed out in another tab')
    this.#closing = this.#shutdown(true).then(() => this.#storage.provider.saveIdentity(undefined))
    return this.#closing
  }

  /**
   * Signs this anonymous client in to the app's own account: the server moves the anonymous user's values into the
   * account (one request, proven by both identities) and deletes the anonymous user; this device keeps its values
   * and its pending writes (carried over exactly once) and is the account's from then on (`userId`, values, events).
   * On the next load, create the client with the same `auth`.
   *
   * @param auth The app's token for the account (`sub` = account id), or a function returning one, as the `auth` option.
   * @param options `prefer` (`account` by default) or a `merge` function for keys both have.
   * @returns The account, how many keys the merge wrote, and the keys both had.
   * @throws CubbyError `NETWORK` when the server cannot be reached, or the server's refusal (`UNAUTHORIZED`,
   *   `FORBIDDEN`, `QUOTA_EXCEEDED`): nothing changed, the client stays anonymous and working. `FORBIDDEN` for a
   *   client that is not anonymous (made with `auth`); `STORAGE_ERROR` when the server merged but this device's
   *   data could not be moved to the account (the client closes, and the account's next start finishes the
   *   switch); `CLOSED`.
   * @example
   * ```ts
   * const { account, conflicts } = await cubby.signIn(() => login.getToken())
   * ```
   */
  async signIn(auth: NonNullable<CubbyOptions['auth']>, options: SignInOptions<TSchema> = {}): Promise<SignInResult> {
    const { signIn } = await import('./account/signIn.js')
    // The sign-in code reads and writes through the public API, untyped by the schema.
    return signIn(this as unknown as Cubby, this.#seat(), auth, options as SignInOptions)
  }

  /** What signIn needs of this client's insides. */
  #seat(): ClientSeat {
    return {
      limits: this.#limits,
      storage: this.#storage,
      hooks: this.#hooks,
      signal: this.#abort.signal,
      loaded: () => this.#use(),
      parts: () => ({ options: this.#options, session: this.#session!, replica: this.#replica!, link: this.#link }),
      replace: (next: Promise<ClientParts>): Promise<ClientParts> => {
        const previous = this.#replica!
        this.#replica = undefined
        const done = next.then(
          (parts) => {
            ;({ options: this.#options, session: this.#session, replica: this.#replica, link: this.#link } = parts)
            return parts
          },
          (error: unknown) => {
            this.#replica = previous
            this.#loaded = Promise.resolve(previous)
            throw error
          },
        )
        this.#loaded = done.then((parts) => parts.replica)
        this.#loaded.catch(() => {})
        return done
      },
    }
  }

  /**
   * Closes the connection and the local database. Writes already made are finished first; later calls reject
   * with `CLOSED`.
   *
   * @example
   * ```ts
   * await cubby.close()
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(false)
    return this.#closing
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  // ---------------------------------------------------------------- internals

  async #load(): Promise<Replica> {
    // The replica, the cache's failure handling, the sync connection and the tabs load in their own chunk (what
    // loads when: docs/client-architecture.md); the first read or write waits for it, as it waits for the cache.
    const [{ loadReplica }, { Updater }] = await Promise.all([import('./loadReplica.js'), import('./updates/Updater.js')])
    this.#Updater = Updater
    const { session, replica } = await loadReplica({
      options: this.#options,
      limits: this.#limits,
      storage: this.#storage,
      signal: this.#abort.signal,
      link: this.#link,
      hooks: this.#hooks,
    })
    this.#session = session
    this.#replica = replica
    this.#link.attach(session, replica)
    return replica
  }

  /** What the replica and the link report, turned into events (one object for both: they share `error`). */
  readonly #hooks: ReplicaHooks & LinkEvents = {
    change: (changes, origin) => {
      if (changes.length > 0 && this.#listened.has('change')) this.#emit('change', { keys: changes.map((c) => c.key), changes, origin })
    },
    pending: (writes) => {
      if (writes.length === 0 || !this.#listened.has('pending')) return
      const keys = new Set<string>()
      for (const { mutation } of writes) if (mutation.op !== 'clear') keys.add(mutation.key)
      this.#emit('pending', { keys: [...keys], count: this.pendingCount })
    },
    error: (error: CubbyError, stopped?: StopReason) => this.#emit('error', stopped ? { error, stopped } : { error }),
    rejected: (error, key) => this.#emit('error', { error, key }),
    synced: () => this.#link.synced(),
    durable: (entries) => {
      if (!this.#link.coordinated) return
      const list = entries()
      if (list.length > 0) this.#link.durable(list)
    },
    status: (status, error) => this.#emit('status', error === undefined ? { status, persistent: this.persistent } : { status, persistent: this.persistent, error }),
    ready: () => this.#resolveReady(),
    gone: (error, destroy) => this.#drop(error, destroy),
  }


  /**
   * Forgets this user's data here and closes: the view empties (a `change` event), an `error` event says why,
   * the status goes `offline`. With `destroy`, the local database goes too.
   */
  #drop(error: CubbyError, destroy: boolean): void {
    if (this.#closing) return
    this.#replica?.forget()
    this.#hooks.error(error)
    const userId = this.#session?.userId
    this.#closing = this.#shutdown(destroy)
      .then(async () => {
        if (!destroy) return
        // The anonymous identity of a deleted user would only be refused from now on.
        const provider = this.#storage.provider
        if ((await provider.loadIdentity())?.userId === userId) await provider.saveIdentity(undefined)
      })
      .catch(() => {})
  }

  /** What {@link devices} needs of this client; `leave` closes it (as a user of another device, with `destroy`). */
  #deviceContext(): DeviceContext<Cubby<TSchema>> {
    return {
      options: this.#options,
      session: async () => (await this.#use(), this.#session!),
      pendingCount: async () => (await this.#use()).pendingCount,
      provider: () => this.#storage.provider,
      leave: (destroy) => {
        if (destroy) this.#link.announceGone('CLOSED', 'This device joined another user in another tab')
        this.#closing ??= this.#shutdown(destroy)
        return this.#closing
      },
      // A memory provider holds the identity: the new client must use that one.
      reopen: () => new Cubby<TSchema>(this.#storage.provider.kind === 'memory' ? { ...this.#options, cache: this.#storage.provider } : this.#options),
    }
  }

  #write(build: () => MutationInput[]): Promise<void> {
    let inputs: MutationInput[]
    try {
      if (this.#closing) throw closedError()
      inputs = build()
    } catch (error) {
      return Promise.reject(error)
    }
    if (inputs.length === 0) return this.#loaded.then(() => {})
    if (this.#replica) return this.#replica.write(inputs)
    return this.#writeLoaded(inputs)
  }

  /** Writes once the replica has loaded. */
  #writeLoaded(inputs: MutationInput[]): Promise<void> {
    return this.#loaded.then((replica) => {
      if (this.#closing) throw closedError()
      this.#onServerClock(inputs, replica)
      return replica.write(inputs)
    })
  }

  #updaterOf(replica: Replica): Updater {
    if (this.#updater === undefined || this.#updater.replica !== replica) this.#updater = { replica, updater: new this.#Updater!(replica, this.#limits, () => this.#link.coordinated) }
    return this.#updater.updater
  }

  /** Writes through the replica with their verdicts tracked: a {@link CubbyWrite}. */
  #tracked(build: () => MutationInput[], extras: WriteExtras = {}): CubbyWrite {
    let inputs: MutationInput[]
    try {
      if (this.#closing) throw closedError()
      inputs = build()
    } catch (error) {
      return refusedWrite(error)
    }
    if (inputs.length === 0) return cubbyWrite(this.#loaded.then(() => {}), this.#loaded.then(() => {}))
    const early = this.#replica === undefined
    const run = (replica: Replica): { durable: Promise<void>; settled: Promise<void> } => {
      if (early) this.#onServerClock(inputs, replica)
      const { writes, durable } = replica.writeTracked(inputs, extras)
      const settled = Promise.all(writes.map((w) => replica.verdict(w))).then(() => {})
      return { durable, settled }
    }
    return this.#tracking(run)
  }

  async #use(): Promise<Replica> {
    if (this.#closing) throw closedError()
    const replica = await this.#loaded
    if (this.#closing) throw closedError()
    return replica
  }

  async #shutdown(destroy: boolean): Promise<void> {
    const reason = closedError()
    this.#link.close()
    this.#abort.abort(reason)
    this.#rejectReady(reason)
    const replica = await this.#loaded.catch(() => undefined)
    await replica?.close(reason, destroy)
  }

  #emit<TType extends keyof CubbyEventMap>(type: TType, detail: CubbyEventMap[TType]['detail']): void {
    if (this.#listened.has(type)) this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
