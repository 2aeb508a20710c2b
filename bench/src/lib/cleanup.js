import { rmSync } from 'node:fs'

// What this process started and has not cleaned up yet, so that an interrupted run leaves nothing behind.
const processes = new Set()
const dirs = new Set()

export const trackProcess = (child) => {
  processes.add(child)
  child.once('exit', () => processes.delete(child))
}
export const trackDir = (dir) => dirs.add(dir)
export const untrackDir = (dir) => dirs.delete(dir)

/** Kills every tracked child process (by its own pid) and removes every tracked temp dir. */
export async function cleanupAll() {
  const exits = [...processes].map((child) => new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGKILL')
  }))
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 5_000))])
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}
