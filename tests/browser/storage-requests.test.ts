import type { Page } from 'playwright-core'
import { describe, expect, it, vi } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { storageSuite } from './storagePage.js'

/** IndexedDB work the page asked for: write transactions, and the requests made inside them; and WebSocket frames sent. */
interface WriteRequests {
  frames: number
  transactions: number
  /** Transactions the page committed itself (`IDBTransaction.commit()`) rather than waiting for their results. */
  commits: number
  put: number
  delete: number
  get: number
}

declare global {
  interface Window {
    writeRequests: WriteRequests
    /** The write transactions opened since the counts were last reset. */
    countedTransactions: WeakSet<IDBTransaction>
  }
}

/**
 * Counts write transactions and their requests in the page (installed before its scripts). Reads of a
 * read-only transaction (a load, the test's own look at the disk) are not counted.
 */
function countWriteRequests(): void {
  const counts: WriteRequests = { frames: 0, transactions: 0, commits: 0, put: 0, delete: 0, get: 0 }
  window.writeRequests = counts
  window.countedTransactions = new WeakSet()
  // Wraps a prototype's method: `count` sees the receiver and the arguments, then the original runs.
  const wrap = <TSelf>(proto: object, name: string, count: (self: TSelf, args: unknown[]) => void): void => {
    const original = Object.getOwnPropertyDescriptor(proto, name)?.value as (...args: unknown[]) => unknown
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: function (this: TSelf, ...args: unknown[]) {
        count(this, args)
        return original.apply(this, args)
      },
    })
  }
  wrap<WebSocket>(WebSocket.prototype, 'send', () => counts.frames++)
  // A commit counts only for a transaction opened since the counts were last reset: one opened before (the
  // connection's own bookkeeping) may be committed after the reset.
  const opened = Object.getOwnPropertyDescriptor(IDBDatabase.prototype, 'transaction')!.value as IDBDatabase['transaction']
  Object.defineProperty(IDBDatabase.prototype, 'transaction', {
    configurable: true,
    writable: true,
    value: function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      const transaction = opened.apply(this, args)
      if (args[1] === 'readwrite') {
        window.writeRequests.transactions++
        window.countedTransactions.add(transaction)
      }
      return transaction
    },
  })
  wrap<IDBTransaction>(IDBTransaction.prototype, 'commit', (t) => window.countedTransactions.has(t) && window.writeRequests.commits++)
  for (const name of ['put', 'delete', 'get'] as const) {
    wrap<IDBObjectStore>(IDBObjectStore.prototype, name, (store) => store.transaction.mode === 'readwrite' && counts[name]++)
  }
}

const STORES = 200

/** Stores `STORES` values one after another, each awaited (the benchmark's awaited store), counting only them. */
async function awaitedStores(page: Page): Promise<void> {
  await page.evaluate(async (count) => {
    Object.assign(window.writeRequests, { frames: 0, transactions: 0, commits: 0, put: 0, delete: 0, get: 0 })
    window.countedTransactions = new WeakSet()
    for (let i = 0; i < count; i++) await window.storage.storeBurst(`s${i}`, 1, 100)
  }, STORES)
}

// What an awaited store costs IndexedDB in real Chromium: one transaction, committed by the page as soon as its
// put is made (the eviction marker is read once per connection, not per store); online, the acknowledgements ride
// along with later transactions and delete a run of outbox entries with one request.
describe.runIf(chromiumAvailable())('IndexedDB requests of awaited stores in Chromium', () => {
  const suite = storageSuite()

  it('costs one transaction and one put per store offline, committed as soon as the put is made', async () => {
    const { server, site } = suite
    await using browser = await launchChromium()
    const context = await browser.newContext()
    await context.addInitScript(countWriteRequests)
    const page = await site.openPage(context)
    await page.evaluate((o) => window.storage.open(o), { url: server.url, token: server.token('orla'), name: 'requests', connect: false })
    await awaitedStores(page)
    expect(await page.evaluate(() => window.writeRequests)).toEqual({ frames: 0, transactions: STORES, commits: STORES, put: STORES, delete: 0, get: 0 })
    expect((await page.evaluate(() => window.storage.disk('requests', 'orla'))).outbox).toHaveLength(STORES)
  })

  it('folds the acknowledgements into few requests online, and keeps every write', async () => {
    const { server, site } = suite
    await using browser = await launchChromium()
    const context = await browser.newContext()
    await context.addInitScript(countWriteRequests)
    const page = await site.openPage(context)
    await page.evaluate((o) => window.storage.open(o), { url: server.url, token: server.token('otto'), name: 'requests', connect: true })
    await awaitedStores(page)
    await page.evaluate(() => window.storage.synced())
    // The acknowledgements' bookkeeping is on disk once the outbox is empty there.
    await vi.waitFor(async () => expect((await page.evaluate(() => window.storage.disk('requests', 'otto'))).outbox).toEqual([]), { timeout: 15_000 })
    const counts = await page.evaluate(() => window.writeRequests)
    // Each push frame brings one ack, whose bookkeeping (confirmed records, outbox deletes, cursor) goes with a later
    // store's transaction or alone, together with the acks that came meanwhile: per frame at most one transaction,
    // one cursor read, one delete of its run of outbox entries and one cursor put. No store reads the marker.
    const bookkeeping = counts.frames
    // The connection's catch-up (its `synced`: cursor and clock offset) may be written after the counts were reset:
    // one more transaction with one cursor read and up to two puts (a loaded CI run counted 404 puts for 403).
    const catchUp = { transactions: 1, get: 1, put: 2 }
    expect(counts.transactions).toBeLessThanOrEqual(STORES + bookkeeping + catchUp.transactions)
    expect(counts.commits).toBe(counts.transactions)
    expect(counts.get).toBeLessThanOrEqual(bookkeeping + catchUp.get)
    expect(counts.delete).toBeLessThanOrEqual(bookkeeping)
    expect(counts.put).toBeLessThanOrEqual(2 * STORES + bookkeeping + catchUp.put)
    expect((await page.evaluate(() => window.storage.disk('requests', 'otto'))).entries).toBe(STORES)
    expect(await server.cubby.list('otto', { limit: 1_000 })).toHaveLength(STORES)
  })
})
