import { resolve } from 'node:path'
import { SYNC_PATH } from '@cubby/protocol'
import express, { type Router } from 'express'

/**
 * Serves a built single-page app from `root` at `/`: files as they are, and `index.html` for any other GET that
 * accepts HTML outside `/v1` (client-side routes).
 * @internal
 */
export function createStaticRouter(root: string): Router {
  const dir = resolve(root)
  const router = express.Router()
  router.use(express.static(dir))
  router.use((req, res, next) => {
    const isPage = (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/v1/') && req.path !== '/v1'
    if (!isPage || req.accepts('html') !== 'html') return next()
    res.sendFile('index.html', { root: dir }, (error?: Error) => {
      if (error !== undefined) next()
    })
  })
  return router
}

/** Answers `GET /` with a short text page that says what this server is, when no app is served. @internal */
export function createInfoRouter(): Router {
  const router = express.Router()
  router.get('/', (_req, res) => {
    res.type('text/plain').send([
      'This is a Cubby sync server: a per-user value store for single-page apps.',
      '',
      'HTTP API:       /v1/values (Authorization: Bearer <token>); POST /v1/identities for an anonymous identity',
      `WebSocket sync: ${SYNC_PATH}`,
      'Health check:   /healthz',
      '',
    ].join('\n'))
  })
  return router
}
