import { type Cubby, isCubbyError } from '@cubby/client'
import type { DemoSchema } from './schema.js'
import { browserLabel } from './linkFromUrl.js'

/** What opening a link did, for the page to say. */
export type LinkOutcome = { joined: true } | { joined: false; message: string }

const why = (error: unknown): string => {
  if (isCubbyError(error, 'NOT_FOUND')) return 'This link was already used or has expired: make a new one on your other device.'
  if (isCubbyError(error, 'PENDING_WRITES')) return 'This browser has changes that are not on the server yet: open the link again once it is online.'
  if (isCubbyError(error, 'NETWORK')) return 'The server cannot be reached: open the link again once online.'
  return `This link did not work: ${error instanceof Error ? error.message : String(error)}`
}

/**
 * Joins the user of a link code made on another device: this browser's key becomes one of that user's devices,
 * and the returned client is that user's. On a refusal the browser stays who it was.
 */
export async function joinWithLink(cubby: Cubby<DemoSchema>, code: string): Promise<{ cubby: Cubby<DemoSchema>; outcome: LinkOutcome }> {
  try {
    const joined = await cubby.devices.redeem(code, { label: browserLabel() })
    return { cubby: joined.cubby, outcome: { joined: true } }
  } catch (error) {
    return { cubby, outcome: { joined: false, message: why(error) } }
  }
}
