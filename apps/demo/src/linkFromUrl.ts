/** The fragment of a link URL: `#link=<code>` (a fragment never reaches a server, its logs or a Referer). */
const LINK = /^#link=([A-Za-z0-9_-]+)$/

/**
 * Takes the link code out of the address, if it has one: read once, then removed from the address bar and the
 * history entry (it is single-use and expires in minutes, but it has no business staying in the address bar).
 */
export function takeLinkCode(): string | undefined {
  const code = LINK.exec(location.hash)?.[1]
  if (code !== undefined) history.replaceState(history.state, '', `${location.pathname}${location.search}`)
  return code
}

/** A label for this browser in the user's device list, e.g. "Firefox on Linux". */
export function browserLabel(): string {
  const ua = navigator.userAgent
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'A browser'
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : ''
  return os === '' ? browser : `${browser} on ${os}`
}
