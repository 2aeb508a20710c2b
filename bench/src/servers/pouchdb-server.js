// PouchDB's own server: express-pouchdb over PouchDB's LevelDB adapter, one database per user.
// 'minimumForPouchDB' serves what replication needs and, unlike the default mode, writes no config or
// log files into the working folder. express-pouchdb is a whole express 4 app (on its own express), so it
// is the request handler itself rather than mounted in an app of the workspace's express 5.
import { createServer } from 'node:http'
import expressPouchDB from 'express-pouchdb'
import PouchDB from 'pouchdb'

const [port = '0', dataDir] = process.argv.slice(2)
if (!dataDir) throw new Error('usage: pouchdb-server.js <port> <data-dir>')
const LevelPouch = PouchDB.defaults({ prefix: `${dataDir}/` })
const app = expressPouchDB(LevelPouch, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: `${dataDir}/log.txt` })
const server = createServer(app).listen(Number(port), '127.0.0.1', () => console.log(`pouchdb-server listening on ${server.address().port}`))
process.on('SIGTERM', () => {
  server.closeAllConnections?.()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
})
