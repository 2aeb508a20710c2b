import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { trackDir, untrackDir } from './cleanup.js'

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A fresh temp dir; remove it with `removeDir`. */
export const makeTempDir = async (prefix) => {
  const dir = await mkdtemp(join(tmpdir(), `cubby-bench-${prefix}-`))
  trackDir(dir)
  return dir
}
export const removeDir = async (dir) => {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 })
  untrackDir(dir)
}

/** A free TCP port on 127.0.0.1 (for servers that cannot report the port they picked). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Rejects after `ms` with a message naming what timed out; every wait in the bench goes through this. */
export function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A 100-byte value (as a string of 100 ASCII characters), distinct per `seed`. */
export function value100(seed) {
  const head = `v${seed}:`
  return head + 'x'.repeat(100 - head.length)
}

/**
 * A set of awaitable keys: `wait(key)` resolves with the value given to `mark(key, value)`, whether
 * that came before or after. The bench uses it to stop the clock on a change event.
 */
export class KeyWaiter {
  #seen = new Map()
  #waiting = new Map()
  mark(key, value) {
    this.#seen.set(key, value)
    const resolve = this.#waiting.get(key)
    if (resolve) {
      this.#waiting.delete(key)
      resolve(value)
    }
  }
  wait(key) {
    if (this.#seen.has(key)) return Promise.resolve(this.#seen.get(key))
    return new Promise((resolve) => this.#waiting.set(key, resolve))
  }
  get size() {
    return this.#seen.size
  }
}
