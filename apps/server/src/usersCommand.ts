import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { Readable, Writable } from 'node:stream'
import { DEFAULT_LIMITS, DEVICE_USER_PREFIX } from '@cubby/protocol'
import { createLevelStorage, parseUserRecords, pruneAnonymousUsers, type CubbyStorage, type UserRecord } from '@cubby/server'
import type { Level } from 'level'
import { DataDirError, openDatabase } from './openDatabase.js'
import { CliUsageError } from './parseCliOptions.js'

/** What `cubby-server users …` was asked to do. */
export type UsersCommand =
  | { action: 'list'; dataDir: string }
  | { action: 'export'; dataDir: string; userId: string; out: string | undefined }
  | { action: 'import'; dataDir: string; userId: string; in: string | undefined }
  | { action: 'delete'; dataDir: string; userId: string }
  | { action: 'prune'; dataDir: string; unusedDays: number }
  | { action: 'devices'; dataDir: string; userId: string }
  | { action: 'revoke'; dataDir: string; userId: string; deviceId: string }
  | { action: 'help' }

/** The `users` commands, for the usage error of an unknown one. */
const USERS_COMMANDS = ['list', 'export', 'import', 'delete', 'prune', 'devices', 'revoke'] as const

/** The `users` part of `--help`. */
const USERS_USAGE: string = `Usage: cubby-server users <command> [--data-dir DIR]   (data dir also from CUBBY_DATA_DIR)

Works on the data dir directly, while no server runs on it (LevelDB allows one process at a time);
while one does, use the HTTP admin API (/v1/admin, see docs/operations.md).

  users list                       every user with data: one JSON line each {userId, head, keys, bytes}
  users export <id> [--out FILE]   the user's data as NDJSON (stdout without --out; FILE is made mode 0600)
  users import <id> [--in FILE]    write an export back into a user without data (stdin without --in);
                                   run it again after a crash half-way: it resumes
  users delete <id>                delete everything of the user: values, revisions, tombstones, client records
                                   (all or nothing; a crash half-way leaves the rest to the next start), and
                                   its devices and link codes
  users devices <id>               the user's devices, live and revoked: one JSON line each
                                   {id, label, createdAt, lastSeen?, revokedAt?}
  users revoke <id> <device-id>    revoke a device of the user: its key is refused from then on (for good);
                                   prints {"revoked": true}, or exits 1 for an unknown device
  users prune --anonymous-unused-days N
                                   delete the anonymous identities (anon_…) that have not written for N days
                                   (fractions allowed), as users delete does; prints {"pruned": count}
`

const USERS_FLAGS = {
  'data-dir': { type: 'string' }, out: { type: 'string' }, in: { type: 'string' }, 'anonymous-unused-days': { type: 'string' },
  help: { type: 'boolean' },
} as const

function parsePrune(days: string | undefined, extra: string | undefined, dataDir: string): UsersCommand {
  if (extra !== undefined) throw new CliUsageError(`Unexpected ${JSON.stringify(extra)}`)
  if (days === undefined) throw new CliUsageError('users prune needs --anonymous-unused-days N')
  const unusedDays = /^\d*\.?\d+$/.test(days.trim()) ? Number(days) : Number.NaN
  if (!(unusedDays > 0)) throw new CliUsageError(`--anonymous-unused-days must be a positive number, got ${JSON.stringify(days)}`)
  return { action: 'prune', dataDir, unusedDays }
}

/** Reads `users <command> …`. @throws CliUsageError */
export function parseUsersCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): UsersCommand {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: USERS_FLAGS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error))
  }
  const { values, positionals: [action, userId, ...extra] } = parsed
  if (values.help === true) return { action: 'help' }
  const dataDir = values['data-dir'] ?? (env.CUBBY_DATA_DIR || './cubby-data')
  if (action === undefined) throw new CliUsageError(`users needs a command: ${USERS_COMMANDS.join(', ')}`)
  if (!(USERS_COMMANDS as readonly string[]).includes(action)) {
    throw new CliUsageError(`unknown users command ${JSON.stringify(action)} (commands: ${USERS_COMMANDS.join(', ')})`)
  }
  if (action === 'revoke') {
    const [deviceId, ...more] = extra
    if (userId === undefined || userId === '' || deviceId === undefined || deviceId === '') throw new CliUsageError('users revoke needs a user id and a device id')
    if (more.length > 0) throw new CliUsageError(`Unexpected ${JSON.stringify(more[0])}`)
    return { action, dataDir, userId, deviceId }
  }
  if (extra.length > 0) throw new CliUsageError(`Unexpected ${JSON.stringify(extra[0])}`)
  if (action === 'list' && userId === undefined) return { action, dataDir }
  if (action === 'prune') return parsePrune(values['anonymous-unused-days'], userId, dataDir)
  if (userId === undefined || userId === '') throw new CliUsageError(`users ${action ?? '<command>'} needs a user id`)
  if (action === 'export') return { action, dataDir, userId, out: values.out }
  if (action === 'import') return { action, dataDir, userId, in: values.in }
  if (action === 'delete' || action === 'devices') return { action, dataDir, userId }
  throw new CliUsageError(`users ${action} takes no user id`)
}

/** A user-facing failure of a `users` command: printed as is, exit code 1. */
class UsersCommandError extends Error {
  override readonly name = 'UsersCommandError'
}

async function openStorage(dataDir: string): Promise<{ storage: CubbyStorage; db: Level<string, string> }> {
  let db: Level<string, string>
  try {
    db = await openDatabase(dataDir, { createIfMissing: false })
  } catch (error) {
    throw error instanceof DataDirError ? new UsersCommandError(error.message) : error
  }
  const storage = createLevelStorage({ db })
  await storage.open()
  return { storage, db }
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain')
}

/**
 * Runs a `users` command on a data dir, streaming exports and imports.
 * @throws UsersCommandError for a locked or missing data dir, or a failed import.
 */
export async function runUsersCommand(command: UsersCommand, io: { stdout: Writable; stdin: Readable }): Promise<void> {
  if (command.action === 'help') return write(io.stdout, USERS_USAGE)
  const { storage, db } = await openStorage(command.dataDir)
  try {
    switch (command.action) {
      case 'list': {
        let after: string | undefined
        for (;;) {
          const users = await storage.users({ ...(after === undefined ? {} : { after }), limit: 1000 })
          for (const user of users) await write(io.stdout, `${JSON.stringify(user)}\n`)
          if (users.length < 1000) return
          after = users.at(-1)!.userId
        }
      }
      case 'export': {
        const out = command.out === undefined ? io.stdout : createWriteStream(command.out, { flags: 'wx', mode: 0o600 })
        for await (const record of storage.exportUser(command.userId)) await write(out, `${JSON.stringify(record)}\n`)
        if (out !== io.stdout) await new Promise<void>((done, fail) => out.end((e?: Error | null) => (e ? fail(e) : done())))
        return
      }
      case 'import': {
        const input = command.in === undefined ? io.stdin : createReadStream(command.in)
        const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
        const renamed = async function* (records: AsyncIterable<UserRecord>) {
          for await (const r of records) yield r.type === 'user' ? { ...r, userId: command.userId } : r
        }
        const result = await storage.importUser(command.userId, renamed(parseUserRecords(lines, DEFAULT_LIMITS)))
        await write(io.stdout, `${JSON.stringify(result)}\n`)
        return
      }
      case 'delete': {
        const deleted = await storage.deleteUser(command.userId)
        await storage.devices?.deleteUser(command.userId)
        // The deletion is whole once deleteUser returns; the records go before the command exits.
        await storage.purge()
        await write(io.stdout, `${JSON.stringify({ deleted })}\n`)
        return
      }
      case 'devices': {
        for (const { jwk: _key, ...device } of await storage.devices?.devices(command.userId) ?? []) await write(io.stdout, `${JSON.stringify(device)}\n`)
        return
      }
      case 'revoke': {
        const { userId, deviceId } = command
        const known = userId === `${DEVICE_USER_PREFIX}${deviceId}` || (await storage.devices?.device(userId, deviceId)) !== undefined
        if (!known || storage.devices === undefined) throw new UsersCommandError(`${userId} has no device ${deviceId}`)
        await storage.devices.revokeDevice(userId, deviceId, Date.now())
        await write(io.stdout, `${JSON.stringify({ revoked: true })}\n`)
        return
      }
      case 'prune': {
        const pruned = await pruneAnonymousUsers(storage, { unusedDays: command.unusedDays })
        // As with delete: the pruned users' records go before the command exits.
        await storage.purge()
        await write(io.stdout, `${JSON.stringify({ pruned })}\n`)
        return
      }
    }
  } finally {
    await storage.close()
    await db.close()
  }
}
