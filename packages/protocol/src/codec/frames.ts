/** Shared by the encoder and the decoder: the explicit work stack both walk values with, and safe own-property writes. */

export const defineOwn = (target: object, key: PropertyKey, value: unknown): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning '__proto__' would call the inherited setter and change the prototype.
  if (key === '__proto__') defineOwn(target, key, value)
  else target[key] = value
}

// Frame kinds: what a container on the work stack is, and so how its children are read and written.
export const F_OBJECT = 0 // items: keys
export const F_ARRAY = 1 // dense, no items
export const F_HOLEY = 2 // items: indices that are present
export const F_SPARSE = 3 // items: indices that are present
export const F_MAP = 4 // items: key, value, key, value...
export const F_SET = 5 // items: values

/**
 * A container whose children are being visited. Both codecs walk the value depth-first with an explicit stack of
 * frames instead of recursion, so deep values cannot overflow the call stack, and both meet nodes in the same order.
 */
export interface Frame {
  kind: number
  /** The container being read: the source object (encoding) or the table node (decoding). */
  source: unknown
  /** The container being written: the table node (encoding) or the decoded object (decoding). */
  target: unknown
  items: unknown[]
  /** Next child to visit, and where to stop. */
  i: number
  end: number
  /** Depth of the children. */
  depth: number
  /** Array length (holey arrays), the length to restore (sparse decoding), or the pending Map key (decoding). */
  extra: unknown
}

export const frame = (kind: number, source: unknown, target: unknown, items: unknown[], start: number, end: number, depth: number, extra: unknown): Frame => ({
  kind,
  source,
  target,
  items,
  i: start,
  end,
  depth,
  extra,
})

export const NO_ITEMS: unknown[] = []
