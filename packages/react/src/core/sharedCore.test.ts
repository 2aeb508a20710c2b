import { readFile, readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The three bindings share one core (src/core) so that they share one semantics. Until @cubby/client offers
// per-key subscriptions itself, each package carries a copy; this keeps the copies identical.
const packages = join(dirname(fileURLToPath(import.meta.url)), '../../..')

it('is the same in @cubby/react, @cubby/vue and @cubby/svelte', async () => {
  const read = async (name: string): Promise<Record<string, string>> => {
    const dir = join(packages, name, 'src/core')
    const files = (await readdir(dir)).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    return Object.fromEntries(await Promise.all(files.sort().map(async (file) => [file, await readFile(join(dir, file), 'utf8')])))
  }
  const react = await read('react')
  expect(Object.keys(react)).toEqual(['CubbyHub.ts', 'CubbyMeta.ts', 'KeyWatch.ts', 'KeysWatch.ts', 'StatusWatch.ts'])
  expect(await read('vue')).toEqual(react)
  expect(await read('svelte')).toEqual(react)
})
