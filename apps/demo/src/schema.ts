import type { Cubby } from '@cubby/client'

/** One submission of the form; each is its own key, so writes from two tabs never clobber each other. */
export interface Submission {
  name: string
  likesCheckboxes: boolean
  /** 0 to 100. */
  favouriteNumber: number
  /** Milliseconds since the epoch, on the device that submitted. */
  submittedAt: number
}

/** Everything this app keeps per user. */
export type DemoSchema = {
  theme: 'light' | 'dark'
  [key: `submission/${string}`]: Submission
}

declare module '@cubby/react' {
  interface Register {
    cubby: Cubby<DemoSchema>
  }
}

/** Eight random hex digits. (Not crypto.randomUUID: it exists only in secure contexts, and the demo may be opened over plain http from a phone.) */
const randomHex = (): string => Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('')

/** A fresh submission key: time first, so keys list in submission order, then randomness, so two tabs never collide. */
export const newSubmissionKey = (now: number = Date.now()): `submission/${string}` => `submission/${now.toString(36).padStart(9, '0')}-${randomHex()}`
