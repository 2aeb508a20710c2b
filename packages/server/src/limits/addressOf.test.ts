import type { IncomingMessage } from 'node:http'
import { expect, it } from 'vitest'
import { addressOf } from './addressOf.js'

const req = (remoteAddress: string, forwarded?: string): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as IncomingMessage

it('counts IPv4 by address and IPv6 by /64 network', () => {
  expect(addressOf(req('127.0.0.1'), false)).toBe('127.0.0.1')
  expect(addressOf(req('::ffff:10.0.0.7'), false)).toBe('10.0.0.7')
  expect(addressOf(req('2001:db8:0:1::5'), false)).toBe('2001:db8:0:1::/64')
  expect(addressOf(req('2001:db8:0:1:ffff:1:2:3'), false)).toBe('2001:db8:0:1::/64')
  expect(addressOf(req('::1'), false)).toBe('0:0:0:0::/64')
})

it('believes X-Forwarded-For only when told to, and then only its last hop', () => {
  expect(addressOf(req('10.0.0.1', '1.2.3.4'), false)).toBe('10.0.0.1')
  expect(addressOf(req('10.0.0.1', 'spoofed, 1.2.3.4'), true)).toBe('1.2.3.4')
  expect(addressOf(req('10.0.0.1', ''), true)).toBe('10.0.0.1')
})
