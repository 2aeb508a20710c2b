import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const LEAN_HEAP = fileURLToPath(new URL('../dist/leanHeap.js', import.meta.url))

/**
 * Runs a node process that (optionally) loads the built leanHeap module first, keeps 2,000 small object graphs
 * alive the way idle connections do, and prints the young generation's size in MiB.
 */
function youngGenerationAfterBurst(nodeArgs: string[], env: NodeJS.ProcessEnv = {}, writesPerSecond = 0): number {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8')
    const { channel } = await import('node:diagnostics_channel')
    // The server's commits as the CLI hears them: ${writesPerSecond} writes a second for a second, then the burst.
    const commits = channel('cubby:commit')
    for (let t = 0; t < 20 && ${writesPerSecond} > 0; t++) {
      commits.publish(${writesPerSecond} / 20)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const keep = []
    for (let i = 0; i < 2000; i++) {
      const connection = []
      for (let j = 0; j < 50; j++) connection.push({ j, name: 'field-' + j + '-' + i })
      keep.push(connection)
    }
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
    process.stdout.write(String(young.space_size / 2 ** 20) + ' ' + keep.length)
  `
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'], ...env }, encoding: 'utf8', timeout: 30_000,
  })
  return Number(out.split(' ')[0])
}

describe('leanHeap', () => {
  it('keeps the young generation at its initial size through a burst of long-lived objects', () => {
    const plain = youngGenerationAfterBurst([])
    const lean = youngGenerationAfterBurst(['--import', LEAN_HEAP])
    // V8 grows it to 16 MiB per semi-space on its own; the CLI keeps it at the initial 1 MiB each.
    expect(plain).toBeGreaterThanOrEqual(8)
    expect(lean).toBeLessThanOrEqual(2)
  })

  it('lets it grow while the server commits more than 2,000 writes a second, and not at a lighter load', () => {
    expect(youngGenerationAfterBurst(['--import', LEAN_HEAP], {}, 1_000)).toBeLessThanOrEqual(2)
    expect(youngGenerationAfterBurst(['--import', LEAN_HEAP], {}, 4_000)).toBeGreaterThanOrEqual(8)
  })

  it("leaves the operator's own young-generation size alone", () => {
    expect(youngGenerationAfterBurst(['--import', LEAN_HEAP, '--max-semi-space-size=4'])).toBeGreaterThan(2)
    expect(youngGenerationAfterBurst(['--import', LEAN_HEAP], { NODE_OPTIONS: '--max-semi-space-size=4' })).toBeGreaterThan(2)
  })
})
