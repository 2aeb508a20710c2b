import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { trackProcess } from './cleanup.js'

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url))

/**
 * Runs `name` exported by `moduleUrl` in a fresh Node process and resolves with its result.
 * The child is killed if it does not answer within `timeoutMs`.
 */
export function runInChild(moduleUrl, name, params, { timeoutMs = 120_000, execArgv = [] } = {}) {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
  trackProcess(child)
  return new Promise((resolve, reject) => {
    let answered = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
    child.once('message', (msg) => {
      answered = true
      clearTimeout(timer)
      if (msg.ok) resolve(msg.result)
      else reject(new Error(`${name} failed in its driver process:\n${msg.error}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!answered) reject(new Error(`${name}: driver process exited with ${code} before answering`))
    })
    child.send({ module: moduleUrl, name, params })
  })
}
