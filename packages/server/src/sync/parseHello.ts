import { CLOSE_CODES, CubbyError, SUPPORTED_PROTOCOL_VERSIONS, parseClientMessage } from '@cubby/protocol'
import type { CubbyErrorCode, HelloMessage } from '@cubby/protocol'

/** Why a first frame ends the connection: the error to send and the close code to use. @internal */
export interface HelloRejection {
  code: CubbyErrorCode
  closeCode: number
  message: string
}

/**
 * Reads the first frame of a connection, which must be a `hello` of a supported protocol version.
 * @internal
 */
export function parseHello(data: Buffer, isBinary: boolean): HelloMessage | HelloRejection {
  let message
  try {
    if (isBinary) throw new CubbyError('BAD_MESSAGE', 'Binary frames are not supported')
    message = parseClientMessage(data.toString())
  } catch (error) {
    const text = error instanceof CubbyError ? error.message : 'The first frame must be a hello'
    return { code: 'BAD_MESSAGE', closeCode: CLOSE_CODES.BAD_MESSAGE, message: text }
  }
  if (message.type !== 'hello') {
    return { code: 'BAD_MESSAGE', closeCode: CLOSE_CODES.BAD_MESSAGE, message: 'The first frame must be a hello' }
  }
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(message.v)) {
    const message = `This server speaks protocol version(s) ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`
    return { code: 'PROTOCOL_VERSION', closeCode: CLOSE_CODES.PROTOCOL_VERSION, message }
  }
  return message
}
