// @vitest-environment happy-dom
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Component, flushSync, mount, unmount } from 'svelte'
import { compile } from 'svelte/compiler'
import { expect, it, vi } from 'vitest'
import { memoryCubby } from './testing.fixture.js'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/**
 * Compiles a .svelte file for the browser and imports it. The output goes to test-results/ (gitignored) with
 * its imports made absolute, so Vite resolves them to the very modules this test uses.
 */
async function compileComponent(file: string): Promise<Component<{ client: unknown }>> {
  const source = await readFile(join(here, file), 'utf8')
  const { js } = compile(source, { filename: file, generate: 'client', runes: true })
  const code = js.code.replace(/from '([^']+)'|import '([^']+)'/g, (match, from?: string, bare?: string) => {
    const specifier = (from ?? bare)!
    const path = specifier === '@cubby/svelte' ? join(here, 'index.ts') : require.resolve(specifier)
    return from ? `from '${path}'` : `import '${path}'`
  })
  const out = join(here, '../../../test-results/svelte', file.replace(/\.svelte$/, '.js'))
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, code)
  return ((await import(/* @vite-ignore */ out)) as { default: Component<{ client: unknown }> }).default
}

it('works in a compiled Svelte 5 component with $store, $store = value and runes', async () => {
  const Panel = await compileComponent('Panel.fixture.svelte')
  await using client = memoryCubby()
  await client.store('todo/1', { title: 'one' })
  const target = document.createElement('div')
  const component = mount(Panel, { target, props: { client } })
  const text = (id: string): string | null | undefined => target.querySelector(`[data-testid="${id}"]`)?.textContent
  const click = (id: string): void => target.querySelector<HTMLButtonElement>(`[data-testid="${id}"]`)!.click()
  try {
    await vi.waitFor(() => expect(text('todos')).toBe('todo/1'))
    expect(text('theme')).toBe('light synced')
    click('toggle')
    await vi.waitFor(() => expect(text('theme')).toBe('dark pending'))
    expect(await client.get('theme')).toBe('dark')
    click('increment')
    click('increment')
    flushSync()
    await vi.waitFor(() => expect(text('count')).toBe('2 4'))
    expect(await client.get('count')).toBe(2)
    await client.store('todo/2', { title: 'two' })
    await vi.waitFor(() => expect(text('todos')).toBe('todo/1,todo/2'))
    expect(text('status')).toBe('offline 5')
  } finally {
    await unmount(component)
  }
})
