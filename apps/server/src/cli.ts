#!/usr/bin/env node
// First: tunes the heap before the server's modules are loaded.
import './leanHeap.js'
import type { CubbyServer } from '@cubby/server'
import { CliUsageError, USAGE, parseCliOptions, type CliCommand } from './parseCliOptions.js'
import { startCli } from './startCli.js'
import { parseUsersCommand, runUsersCommand } from './usersCommand.js'

/** A usage error: one line saying what is wrong and where the help is, exit code 2. */
function usageError(error: unknown, help: string): never {
  if (!(error instanceof CliUsageError)) throw error
  process.stderr.write(`cubby-server: ${error.message}\nRun '${help}' for usage.\n`)
  process.exit(2)
}

/** `cubby-server users …`: operate on the data dir while no server runs. */
async function users(argv: string[]): Promise<void> {
  let command
  try {
    command = parseUsersCommand(argv, process.env)
  } catch (error) {
    usageError(error, 'cubby-server users --help')
  }
  // A reader that stops early (`| head`) closes the pipe: a normal end of the output, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    process.stderr.write(`cubby-server: cannot write the output: ${error.message}\n`)
    process.exit(1)
  })
  await runUsersCommand(command, { stdout: process.stdout, stdin: process.stdin })
}

function parse(): CliCommand {
  try {
    return parseCliOptions(process.argv.slice(2), process.env)
  } catch (error) {
    usageError(error, 'cubby-server --help')
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'users') return users(process.argv.slice(3))
  const command = parse()
  if (command.help) return void process.stdout.write(USAGE)
  const { cubby, close } = await startCli(command, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`cubby-server: ${line}\n`))
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    // A second signal while closing means: stop now.
    if (stopping) process.exit(1)
    stopping = true
    process.stderr.write(`cubby-server: ${signal}, closing\n`)
    close().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`cubby-server: close failed: ${String(error)}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // With Redis the secret comes from the environment or a file read at start: rotate by restarting the nodes one at a time.
  process.on('SIGHUP', () => (command.redis === undefined ? reload(cubby) : process.stderr.write('cubby-server: SIGHUP ignored with Redis; restart to rotate secrets\n')))
}

/** `SIGHUP`: read the token secrets again (a rotation without restart); a failure keeps the secrets in use. */
function reload(cubby: CubbyServer): void {
  try {
    cubby.reloadSecrets()
    process.stderr.write('cubby-server: SIGHUP, token secrets reloaded\n')
  } catch (error) {
    // The message names the file, never a secret.
    process.stderr.write(`cubby-server: SIGHUP, token secrets NOT reloaded: ${error instanceof Error ? error.message : String(error)}\n`)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`cubby-server: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
