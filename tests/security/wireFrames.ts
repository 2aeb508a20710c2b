import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

/** The header of a masked client frame (mask key 0, so the payload goes as is) announcing `length` bytes. */
export function frameHeader(length: number, { opcode = 1, fin = true } = {}): Buffer {
  const first = (fin ? 0x80 : 0) | opcode
  if (length < 126) return Buffer.from([first, 0x80 | length, 0, 0, 0, 0])
  if (length < 65536) {
    const header = Buffer.alloc(8)
    header[0] = first
    header[1] = 0x80 | 126
    header.writeUInt16BE(length, 2)
    return header
  }
  const header = Buffer.alloc(14)
  header[0] = first
  header[1] = 0x80 | 127
  header.writeBigUInt64BE(BigInt(length), 2)
  return header
}

/** A TCP socket upgraded to the sync endpoint by hand, and everything the server has written to it since. */
export interface UpgradedSocket {
  socket: Socket
  received: () => Buffer
  closed: Promise<void>
}

/** Opens a TCP connection and upgrades it to a WebSocket at /v1/sync, without any WebSocket library. */
export async function upgradeRaw(port: number): Promise<UpgradedSocket> {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  socket.write([
    'GET /v1/sync HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', '',
  ].join('\r\n'))
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', check)
      if (!text.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${text.slice(0, 200)}`))
      const rest = Buffer.concat(chunks).subarray(end + 4)
      chunks.length = 0
      if (rest.length > 0) chunks.push(rest)
      resolve()
    }
    socket.on('data', check)
    check()
  })
  return { socket, received: () => Buffer.concat(chunks), closed }
}

/** Writes `data` unless the socket is gone, and resolves once it is handed to the kernel (or the socket fails). */
export function writeSome(socket: Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.resolve()
  return new Promise((resolve) => socket.write(data, () => resolve()))
}

/** The server frames in `bytes`: [opcode, payload] (unmasked, as a server sends them). */
export function parseServerFrames(bytes: Buffer): Array<[number, Buffer]> {
  const frames: Array<[number, Buffer]> = []
  let at = 0
  while (at + 2 <= bytes.length) {
    let length = bytes[at + 1]! & 0x7f
    let start = at + 2
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2)
      start += 2
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2))
      start += 8
    }
    if (start + length > bytes.length) break
    frames.push([bytes[at]! & 0x0f, bytes.subarray(start, start + length)])
    at = start + length
  }
  return frames
}
