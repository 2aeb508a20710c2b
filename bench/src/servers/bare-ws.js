// The bare `ws` server the limits are measured against: echoes every frame, holds idle sockets.
import { WebSocketServer } from 'ws'

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) })
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
wss.on('listening', () => console.log(`bare-ws listening on ${wss.address().port}`))
process.on('SIGTERM', () => wss.close(() => process.exit(0)))
