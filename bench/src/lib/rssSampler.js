import { readFileSync } from 'node:fs'
import { procStats } from './proc.js'

/** Samples a process's RSS every `everyMs` until `stop()`, which returns the largest seen (bytes). */
export function rssSampler(pid, everyMs = 20) {
  let peak = procStats(pid).rssBytes
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStats(pid).rssBytes)
    } catch {
      // the process has exited: keep the peak so far
    }
  }, everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      return peak
    },
  }
}

/** This process's soft limit of open files (children inherit it), or undefined when unlimited or unreadable. */
export function openFileLimit() {
  try {
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
    return soft === undefined ? undefined : Number(soft)
  } catch {
    return undefined
  }
}
