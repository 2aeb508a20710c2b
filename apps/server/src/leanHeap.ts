import { setFlagsFromString } from 'node:v8'

/**
 * Keeps V8's young generation at its initial size (1 MiB per semi-space) unless the operator sized it with
 * `--max-semi-space-size` or `--semi-space-growth-factor` (on the command line or in NODE_OPTIONS).
 *
 * By default V8 doubles the young generation (up to 16 MiB per semi-space) whenever enough objects survive its
 * scavenges, and never gives the memory back while the process is idle. A burst of connecting clients grows it to
 * the maximum, so an idle sync server kept 32 MiB of young generation that 2,000 sockets needed none of: about
 * half of its memory per idle connection (docs/benchmarks.md, "Idle connections"). A sync server's objects are
 * mostly long-lived (sessions) or die at once (frames), so a small young generation costs it little time.
 *
 * Imported first by the CLI, before the server's modules are loaded, so that loading them does not grow it either.
 * The growth factor is read at every growth, which is why it can still be set after V8 has started.
 */
function keepYoungGenerationSmall(): void {
  const given = [...process.execArgv, process.env['NODE_OPTIONS'] ?? '']
  if (given.some((arg) => /--(max-semi-space-size|semi-space-growth-factor)\b/.test(arg))) return
  setFlagsFromString('--semi-space-growth-factor=1')
}

keepYoungGenerationSmall()
