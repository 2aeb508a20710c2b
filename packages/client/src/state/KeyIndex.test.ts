import { compareKeys } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import { KeyIndex } from './KeyIndex.js'

const indexOf = (keys: Set<string>): KeyIndex => new KeyIndex(() => keys)

describe('KeyIndex', () => {
  const keys = new Set(['todo/1', 'todo/10', 'todo/2', 'todo/\u{1F600}', 'todo/\uFFFD', 'todo', 'todos', 'note/1', 'to'])
  const fresh = (): KeyIndex => indexOf(keys)

  it('lists in code point order, where an astral character sorts after U+FFFD', () => {
    expect(fresh().list()).toEqual(['note/1', 'to', 'todo', 'todo/1', 'todo/10', 'todo/2', 'todo/\uFFFD', 'todo/\u{1F600}', 'todos'])
  })

  it('lists by prefix, page by page with after and limit', () => {
    const index = fresh()
    const expected = ['todo/1', 'todo/10', 'todo/2', 'todo/\uFFFD', 'todo/\u{1F600}']
    expect(index.list({ prefix: 'todo/' })).toEqual(expected)
    const pages: string[][] = []
    let after: string | undefined
    for (;;) {
      const page = index.list({ prefix: 'todo/', limit: 2, ...(after === undefined ? {} : { after }) })
      if (page.length === 0) break
      pages.push(page)
      after = page.at(-1)
    }
    expect(pages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)])
  })

  it('starts after a key that is not in the index, and before the prefix when after is smaller', () => {
    expect(fresh().list({ after: 'todo/11' })).toEqual(['todo/2', 'todo/\uFFFD', 'todo/\u{1F600}', 'todos'])
    expect(fresh().list({ prefix: 'todo/', after: 'a', limit: 1 })).toEqual(['todo/1'])
    expect(fresh().list({ limit: 0 })).toEqual([])
  })

  it('rejects a limit that is not a number >= 0 and a prefix that is not a string', () => {
    expect(() => fresh().list({ limit: -1 })).toThrow(TypeError)
    expect(() => fresh().list({ limit: Number.NaN })).toThrow(TypeError)
    expect(() => fresh().list({ prefix: 1 as unknown as string })).toThrow(TypeError)
  })

  it('stays equal to a full sort through any mix of additions and removals', () => {
    const live = new Set<string>()
    const index = indexOf(live)
    let seed = 7
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
    for (let round = 0; round < 200; round++) {
      for (let i = random(40); i > 0; i--) {
        const key = `k${random(300)}${random(3) === 0 ? '\u{1F600}' : ''}`
        if (live.has(key)) {
          live.delete(key)
          index.removed(key)
        } else {
          live.add(key)
          index.added(key)
        }
      }
      expect(index.list()).toEqual([...live].sort(compareKeys))
    }
  })
})
