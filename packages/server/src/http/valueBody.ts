import {
  CUBBY_VALUE_CONTENT_TYPE, CubbyError, JSON_CONTENT_TYPE, MAX_VALUE_DEPTH, encodeValue, isJsonDeeperThan, isJsonEncoding,
} from '@cubby/protocol'

/** The HTTP form of an encoded value: plain JSON as itself, a typed encoding without its leading `~`. */
export function toHttpBody(encoded: string): { contentType: string; body: string } {
  return isJsonEncoding(encoded)
    ? { contentType: JSON_CONTENT_TYPE, body: encoded }
    : { contentType: CUBBY_VALUE_CONTENT_TYPE, body: encoded.slice(1) }
}

/**
 * The encoding of a PUT body. JSON is normalised through `encodeValue`; a typed body gets its `~` back and is
 * checked (decoded) with every other write.
 *
 * @throws CubbyError `BAD_MESSAGE` for malformed JSON or another content type; `INVALID_VALUE` for JSON nested deeper
 *   than values may be, found before `JSON.parse` runs (deep nesting is its slow case: seconds for a few MiB of `[`).
 */
export function fromHttpBody(contentType: string | false, body: unknown): string {
  // A host app that mounts express.json() before Cubby's router hands over the parsed value instead of the text.
  if (contentType === JSON_CONTENT_TYPE && typeof body === 'object' && body !== null) return encodeValue(body)
  if (typeof body !== 'string') {
    throw new CubbyError('BAD_MESSAGE', `Send the value as ${JSON_CONTENT_TYPE} or ${CUBBY_VALUE_CONTENT_TYPE}`)
  }
  if (contentType === CUBBY_VALUE_CONTENT_TYPE) return `~${body}`
  if (isJsonDeeperThan(body, MAX_VALUE_DEPTH)) throw new CubbyError('INVALID_VALUE', `The value is nested deeper than ${MAX_VALUE_DEPTH} levels`)
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    throw new CubbyError('BAD_MESSAGE', 'The body is not valid JSON')
  }
  return encodeValue(value)
}
