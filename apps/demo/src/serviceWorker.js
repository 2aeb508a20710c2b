// The demo's service worker (the build fills in the file list): the app shell is served from a cache named after
// the build, so the page loads offline; everything else (the API under /v1, the WebSocket) goes to the network.
/// <reference lib="webworker" />
const PRECACHE = self.__PRECACHE__
const CACHE = `cubby-demo:${self.__VERSION__}`

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('cubby-demo:') && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const { request } = event
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/v1/')) return
  // Navigations get the shell (client-side routes included); files get their cached copy; the rest goes out.
  const cached = request.mode === 'navigate' ? caches.match('/', { cacheName: CACHE }) : caches.match(request, { cacheName: CACHE })
  event.respondWith(cached.then((response) => response ?? fetch(request)))
})
