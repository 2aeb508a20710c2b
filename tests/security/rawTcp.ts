import { connect } from 'node:net'

/** One HTTP answer read off a raw socket: the status, the headers (lower-case names), the body and what followed it. */
export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  /** Bytes after the first answer (a second answer to one request would show here). */
  rest: string
  /** Everything received, as latin1. */
  raw: string
}

const HEAD = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n((?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*\r\n)*)\r\n/

/**
 * Parses the first answer of `raw` (latin1): a status line, headers and a `Content-Length` body (none for `head`,
 * the answer to a HEAD request).
 * @returns `undefined` when `raw` does not (yet) hold one whole well-formed answer.
 */
export function parseAnswer(raw: string, { head: isHead = false }: { head?: boolean } = {}): RawAnswer | undefined {
  const head = HEAD.exec(raw)
  if (head === null) return undefined
  const headers: Record<string, string> = {}
  for (const line of head[2]!.split('\r\n').filter((l) => l !== '')) {
    const at = line.indexOf(':')
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim()
  }
  const status = Number(head[1])
  const start = head[0].length
  if (headers['transfer-encoding'] === 'chunked' && !isHead) return chunked(raw, start, status, headers)
  const length = isHead || status === 101 || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? Number.NaN)
  if (!Number.isSafeInteger(length) || raw.length < start + length) return undefined
  return { status, headers, body: raw.slice(start, start + length), rest: raw.slice(start + length), raw }
}

/** The answer whose chunked body starts at `at`, or `undefined` until its last chunk is in. */
function chunked(raw: string, at: number, status: number, headers: Record<string, string>): RawAnswer | undefined {
  let body = ''
  for (;;) {
    const line = /^([0-9a-fA-F]+)\r\n/.exec(raw.slice(at))
    if (line === null) return undefined
    const size = Number.parseInt(line[1]!, 16)
    const data = at + line[0].length
    if (raw.slice(data + size, data + size + 2) !== '\r\n') return undefined
    body += raw.slice(data, data + size)
    at = data + size + 2
    if (size === 0) return { status, headers, body, rest: raw.slice(at), raw }
  }
}

/**
 * Sends `request` (latin1 bytes, exactly as given) on a fresh TCP connection to 127.0.0.1:`port` and collects what
 * comes back until the server closes the connection, a 101 arrives, or `timeoutMs` passes (then the socket is
 * cut and whatever arrived is returned).
 */
export function exchange(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(text)
    }
    const timer = setTimeout(done, timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      // A 101 leaves the socket open for WebSocket frames: the answer is complete once its head is.
      if (/^HTTP\/1\.1 101 [\s\S]*?\r\n\r\n/.test(text)) done()
    })
    socket.on('close', done).on('error', () => {})
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request)
  })
}
