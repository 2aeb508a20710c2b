import { TextDecoder } from 'node:util'
import { CubbyError } from '@cubby/protocol'
import type { RequestHandler } from 'express'
import { sendError } from './httpErrors.js'

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i

/** The decoder for a `Content-Type`'s charset (UTF-8 without one). @throws CubbyError `BAD_MESSAGE` for an unknown charset. */
function decoderOf(contentType: string | undefined): TextDecoder {
  const charset = CHARSET.exec(contentType ?? '')?.[1] ?? 'utf-8'
  try {
    return new TextDecoder(charset)
  } catch {
    throw new CubbyError('BAD_MESSAGE', `Unsupported charset ${JSON.stringify(charset.slice(0, 40))}; send UTF-8`)
  }
}

/**
 * Reads a text body of one of `types` into `req.body`, counting its bytes as they arrive: one byte over
 * `maxBytes` and reading stops, the answer is `413 MESSAGE_TOO_LARGE` and the connection is closed. (body-parser
 * reads a chunked body to its end before it refuses it, however long that is.) Other types, and a body a host
 * app's own parser has read already, are left alone.
 * @internal
 */
export function readTextBody({ types, maxBytes }: { types: string[]; maxBytes: number }): RequestHandler {
  return (req, res, next) => {
    // A host app that mounts its own body parser (express.json()) before Cubby's router has read the body already.
    if (req.body !== undefined || req.readableEnded || typeof req.is(types) !== 'string') return next()
    const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase()
    if (encoding !== 'identity') throw new CubbyError('BAD_MESSAGE', 'Send the body without a Content-Encoding')
    const decoder = decoderOf(req.get('content-type'))
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= maxBytes) return void chunks.push(chunk)
      stop()
      req.pause()
      res.set('Connection', 'close').once('finish', () => req.socket.destroy())
      sendError(res, 'MESSAGE_TOO_LARGE', `The body may be at most ${maxBytes} bytes`, { refused: 'body' })
    }
    const onEnd = (): void => {
      stop()
      try {
        req.body = decoder.decode(Buffer.concat(chunks))
      } catch (error) {
        return next(error)
      }
      next()
    }
    const onError = (error: Error): void => {
      stop()
      next(new CubbyError('BAD_MESSAGE', 'The body was cut off', { cause: error }))
    }
    const stop = (): void => void req.off('data', onData).off('end', onEnd).off('error', onError)
    req.on('data', onData).on('end', onEnd).on('error', onError)
  }
}
