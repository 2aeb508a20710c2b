import type { CubbyDevices, DeviceContext } from './CubbyDevices.js'

/**
 * The device calls of a client, whose code loads on first use: most apps never call them.
 * @internal
 */
export function lazyDevices<TClient>(context: () => DeviceContext<TClient>): CubbyDevices<TClient> {
  const load = async (): Promise<CubbyDevices<TClient>> => (await import('./deviceActions.js')).deviceActions(context())
  return {
    link: async (options) => (await load()).link(options),
    list: async () => (await load()).list(),
    revoke: async (id) => (await load()).revoke(id),
    redeem: async (code, options) => (await load()).redeem(code, options),
  }
}
