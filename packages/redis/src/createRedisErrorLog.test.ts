import { expect, it } from 'vitest'
import { createRedisErrorLog } from './createRedisErrorLog.js'

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
const reply = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' })

it('writes the first error of each client and kind at once, then one line per interval with the count since', () => {
  const lines: string[] = []
  let now = 0
  const report = createRedisErrorLog((line) => lines.push(line), { intervalMs: 1000, now: () => now })
  for (let i = 0; i < 50; i++) report('storage', refused())
  report('bus', refused())
  report('storage', reply('NOSCRIPT No matching script'))
  expect(lines).toEqual([
    'redis error: client=storage kind=connection code=ECONNREFUSED count=1 message="connect ECONNREFUSED 127.0.0.1:1"',
    'redis error: client=bus kind=connection code=ECONNREFUSED count=1 message="connect ECONNREFUSED 127.0.0.1:1"',
    'redis error: client=storage kind=script code=NOSCRIPT count=1 message="NOSCRIPT No matching script"',
  ])
  now = 1000
  report('storage', refused())
  expect(lines.at(-1)).toBe('redis error: client=storage kind=connection code=ECONNREFUSED count=50 message="connect ECONNREFUSED 127.0.0.1:1"')
  expect(lines).toHaveLength(4)
})

it('reports what is not an Error without throwing', () => {
  const lines: string[] = []
  const report = createRedisErrorLog((line) => lines.push(line))
  report('bus-subscriber', undefined)
  report('bus', 'plain')
  expect(lines).toEqual([
    'redis error: client=bus-subscriber kind=connection code=unknown count=1 message="undefined"',
    'redis error: client=bus kind=connection code=unknown count=1 message="plain"',
  ])
})
