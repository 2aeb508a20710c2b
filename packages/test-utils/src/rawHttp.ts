import { request } from 'node:http'

/** An HTTP answer, body parsed as JSON where it is JSON. */
export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: unknown
}

/**
 * Sends an HTTP request with the path exactly as given: `fetch` would normalise `..`, `%2E%2E` and more, and an
 * attacker does not have to.
 */
export function rawHttp(
  url: string,
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number; fresh?: boolean } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  // Node sends a GET, HEAD, DELETE or OPTIONS body without any framing unless it is given a length.
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  return new Promise((resolve, reject) => {
    // `fresh`: a connection of its own, so that how one request left a kept-alive connection cannot fail the next.
    const agent = options.fresh === true ? { agent: false as const } : {}
    const req = request(url, { method, headers, path, timeout: options.timeoutMs ?? 10_000, ...agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} got no answer within ${options.timeoutMs ?? 10_000} ms`)))
    req.on('error', reject)
    req.end(options.body)
  })
}
