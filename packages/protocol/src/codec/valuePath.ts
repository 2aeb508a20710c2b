

/** Paths such as value.items[3].onClick in the messages of rejected values. */

export const PROP = 0
export const INDEX = 1
export const MAP_KEY = 2
export const MAP_VALUE = 3
export const SET_ITEM = 4

function formatStep(kind: number, key: unknown): string {
  switch (kind) {
    case PROP:
      return /^[A-Za-z_$][\w$]*$/.test(key as string) ? `.${key as string}` : `[${JSON.stringify(key)}]`
    case INDEX:
      return `[${key as number}]`
    case MAP_KEY:
      return `.keys()[${key as number}]`
    case MAP_VALUE:
      return `.get(${previewKey(key)})`
    default:
      return `.values()[${key as number}]`
  }
}

/** A Map key as it would be written in code, shortened; objects only as `<object>`. */
function previewKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)
  if (typeof key === 'bigint') return `${key}n`
  return (typeof key === 'object' && key !== null) || typeof key === 'function' ? '<object>' : String(key)
}

/** `path` holds (kind, key) pairs from the root down. Long paths keep their two ends. */
export function formatPath(path: readonly unknown[]): string {
  const steps = ['value']
  for (let i = 0; i < path.length; i += 2) steps.push(formatStep(path[i] as number, path[i + 1]))
  return steps.length > 24 ? `${steps.slice(0, 12).join('')}…${steps.slice(-11).join('')}` : steps.join('')
}
