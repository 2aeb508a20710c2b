import { rmSync } from 'node:fs'

// What this process started and has not cleaned up yet, so that an interrupted run leaves nothing behind.
const processes = new Set()
const dirs = new Set()
const hooks = new Set()

export const trackProcess = (child) => {
  processes.add(child)
  child.once('exit', () => processes.delete(child))
}
export const trackDir = (dir) => dirs.add(dir)
export const untrackDir = (dir) => dirs.delete(dir)
/** Runs `fn` on an interrupted run (for what is no child of this process's own, e.g. a test-utils Redis); returns the untrack function. */
export const trackCleanup = (fn) => {
  hooks.add(fn)
  return () => hooks.delete(fn)
}

/** Kills every tracked child process (by its own pid), runs the tracked cleanups and removes every tracked temp dir. */
export async function cleanupAll() {
  const ran = [...hooks].map((fn) => Promise.resolve().then(fn).catch((error) => console.error(`cleanup failed: ${error}`)))
  const exits = [...processes].map((child) => new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGKILL')
  }))
  await Promise.race([Promise.all([...exits, ...ran]), new Promise((resolve) => setTimeout(resolve, 5_000))])
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}
