import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The first line of a secret file (later lines are previous secrets, see {@link loadPreviousSecrets}). */
const readSecret = (file: string): string => readLines(file)[0] ?? ''
const readLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '')

/**
 * Reads `<dataDir>/<name>` (the token secret `secret`, or the admin credential `admin-token`), creating it on first
 * use: 32 random bytes as base64url, mode 0600, in a data dir of mode 0700. The file is written whole under a
 * temporary name (flag 'wx') and then hard-linked into place, so two servers starting at once agree on one secret
 * and neither ever reads a half-written file.
 *
 * @throws when the data dir cannot be created or the secret file is empty.
 */
export function loadSecret(dataDir: string, name = 'secret'): string {
  const file = join(dataDir, name)
  try {
    return nonEmpty(readSecret(file), file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  writeFileSync(temp, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600, flush: true })
  try {
    linkSync(temp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(temp)
  }
  return nonEmpty(readSecret(file), file)
}

function nonEmpty(secret: string, file: string): string {
  if (secret.length === 0) throw new Error(`The secret file ${file} is empty; delete it to have a new one made`)
  return secret
}

/**
 * The previous secrets of a rotation: every line of `<dataDir>/secret` after the first. To rotate, put a new
 * secret on the first line, keep the old one below it for as long as tokens signed with it should work, then
 * remove it (reloading the secrets, `SIGHUP` to the CLI, after each step).
 */
export function loadPreviousSecrets(dataDir: string): string[] {
  try {
    return readLines(join(dataDir, 'secret')).slice(1)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** Every non-empty line of `<dataDir>/secret`, or `undefined` when there is no such file (never creates it). */
export function readSecretLines(dataDir: string): string[] | undefined {
  try {
    return readLines(join(dataDir, 'secret'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
