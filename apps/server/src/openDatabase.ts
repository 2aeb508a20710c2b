import { join, resolve } from 'node:path'
import { Level } from 'level'

/** A data dir that cannot be used (locked by another server, unreadable, ...): printed as is, exit code 1. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError'
}

/**
 * Opens the LevelDB database of a data dir, turning the failures people run into (another server on the same
 * data dir, a read-only or missing one) into a message that says what to do.
 * @throws DataDirError
 */
export async function openDatabase(dataDir: string, options: { createIfMissing: boolean }): Promise<Level<string, string>> {
  const location = join(resolve(dataDir), 'db')
  const db = new Level<string, string>(location, options)
  try {
    await db.open()
    return db
  } catch (error) {
    throw new DataDirError(explain(dataDir, location, error))
  }
}

function explain(dataDir: string, location: string, error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  if (cause?.code === 'LEVEL_LOCKED') {
    return `The data dir ${dataDir} is in use by a running cubby-server (LevelDB allows one process).\n` +
      'Stop it first, or use the HTTP admin API of the running server, e.g.\n' +
      `  curl -H "Authorization: Bearer $(cat ${join(dataDir, 'admin-token')})" http://127.0.0.1:8080/v1/admin/users`
  }
  const detail = cause?.message ?? (error instanceof Error ? error.message : String(error))
  const hint = /permission|read-only|EACCES|EROFS/i.test(detail) ? ` (is ${dataDir} writable by this user?)` : ''
  return `Cannot open ${location}: ${detail}${hint}`
}
