import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const DEVICE_SCRIPT = fileURLToPath(new URL('../device-process.mjs', import.meta.url))

type Reply = { id: number; result?: unknown; error?: { name?: string; code?: string; message: string } }
type DeviceEvent = { event: string; keys?: string[]; origin?: string; code?: string }

/** A Cubby client in a child process (the built `@cubby/client`), called method by method over IPC. */
export interface RemoteDevice extends AsyncDisposable {
  /** Calls a method of the remote Cubby; arguments and result cross as structured clones. */
  call<TResult = unknown>(method: string, ...args: unknown[]): Promise<TResult>
  /** Every event the device reported so far (change and error events), in order. */
  readonly events: DeviceEvent[]
}

/**
 * Starts a device in its own process, talking to the server at `url`.
 *
 * @example
 * ```ts
 * await using phone = await startRemoteDevice(server.url, { auth: server.token('alice') })
 * await vi.waitFor(async () => expect(await phone.call('get', 'k')).toBe(1))
 * ```
 */
export async function startRemoteDevice(url: string, options: Record<string, unknown> = {}): Promise<RemoteDevice> {
  const child: ChildProcess = fork(DEVICE_SCRIPT, [JSON.stringify({ name: `remote-${randomUUID()}`, ...options, url })], {
    serialization: 'advanced',
    // The vitest worker runs with `--conditions @cubby/source`; the device must load the built client.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const events: DeviceEvent[] = []
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  const started = new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`remote device exited with ${code}`)))
    child.on('message', (message: Reply | DeviceEvent) => {
      if ('event' in message) {
        if (message.event === 'started') resolve()
        else events.push(message)
        return
      }
      const waiter = pending.get(message.id)
      pending.delete(message.id)
      if (message.error) waiter?.reject(Object.assign(new Error(message.error.message), message.error))
      else waiter?.resolve(message.result)
    })
  })
  await started
  return {
    events,
    call: <TResult>(method: string, ...args: unknown[]) =>
      new Promise<TResult>((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.send({ id, method, args })
      }),
    [Symbol.asyncDispose]: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}
