import { CUBBY_VALUE_CONTENT_TYPE, JSON_CONTENT_TYPE, decodeValue } from '@cubby/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fromHttpBody } from './valueBody.js'

describe('fromHttpBody', () => {
  afterEach(() => vi.restoreAllMocks())

  it('refuses JSON nested deeper than values may be before JSON.parse sees it', () => {
    const parse = vi.spyOn(JSON, 'parse')
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`
    expect(() => fromHttpBody(JSON_CONTENT_TYPE, deep)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE', message: expect.stringMatching(/nested deeper than 1000/) }))
    expect(parse).not.toHaveBeenCalled()
  })

  it('takes JSON up to the depth limit, and keeps BAD_MESSAGE for what is not JSON', () => {
    const deepest = `${'['.repeat(1000)}${']'.repeat(1000)}`
    expect(decodeValue(fromHttpBody(JSON_CONTENT_TYPE, deepest))).toEqual(JSON.parse(deepest))
    expect(() => fromHttpBody(JSON_CONTENT_TYPE, '{')).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }))
    expect(fromHttpBody(CUBBY_VALUE_CONTENT_TYPE, '-1')).toBe('~-1')
  })
})
