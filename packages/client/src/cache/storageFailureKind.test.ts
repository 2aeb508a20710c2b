import { CubbyError } from '@cubby/protocol'
import { Dexie } from 'dexie'
import { describe, expect, it } from 'vitest'
import { storageFailureKind } from './storageFailureKind.js'

const dom = (name: string, message = ''): DOMException => new DOMException(message, name)

describe('storageFailureKind', () => {
  it('tells the failures that browsers report from one another', () => {
    expect(storageFailureKind(dom('QuotaExceededError'))).toBe('quota')
    expect(storageFailureKind(dom('InvalidStateError', 'The database connection is closing.'))).toBe('closed')
    expect(storageFailureKind(dom('UnknownError', 'Connection to Indexed Database server lost. Refresh the page to try again'))).toBe('closed')
    expect(storageFailureKind(dom('UnknownError', 'Internal error opening backing store for indexedDB.open.'))).toBe('unknown')
    expect(storageFailureKind(new Error('FIRESTORE (9.0.0) INTERNAL ASSERTION FAILED: Unexpected state'))).toBe('unknown')
    expect(storageFailureKind(dom('AbortError'))).toBe('unknown')
    expect(storageFailureKind(new CubbyError('CACHE_EVICTED'))).toBe('evicted')
  })

  it('reads the browser error that Dexie wraps', () => {
    expect(storageFailureKind(new Dexie.AbortError('Transaction aborted', dom('QuotaExceededError')))).toBe('quota')
    expect(storageFailureKind(new Dexie.DatabaseClosedError())).toBe('closed')
  })

  it('leaves a write that cannot be stored to the caller', () => {
    expect(storageFailureKind(dom('DataCloneError'))).toBe('other')
    expect(storageFailureKind(new TypeError('A cache record cannot hold a function'))).toBe('other')
    expect(storageFailureKind(undefined)).toBe('other')
  })
})
