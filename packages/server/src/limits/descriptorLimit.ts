import { readFileSync } from 'node:fs'

/**
 * The process's soft limit of open files, from `/proc/self/limits` (Linux); `undefined` where it cannot be read or
 * is unlimited. Node has no getrlimit.
 * @internal
 */
export function openFileLimit(): number | undefined {
  let text: string
  try {
    text = readFileSync('/proc/self/limits', 'utf8')
  } catch {
    return undefined
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1]
  return soft === undefined ? undefined : Number(soft)
}

/**
 * The cap on open connections: `configured`, or fewer when the open-file limit leaves less once a reserve is kept
 * for the database, the log and Node itself (a quarter of the limit, from 64 to 1024 descriptors).
 * @internal
 */
export function connectionCap(configured: number, fileLimit: number | undefined): number {
  if (fileLimit === undefined) return configured
  const reserve = Math.max(64, Math.min(1024, Math.floor(fileLimit / 4)))
  return Math.max(1, Math.min(configured, fileLimit - reserve))
}
