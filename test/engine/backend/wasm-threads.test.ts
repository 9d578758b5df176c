import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const child = fileURLToPath(new URL('./fixtures/wasm-threads-child.ts', import.meta.url))

interface ChildResult {
  threads: number
  label: string
  notes: string[]
  y: number[]
  dx: number[]
  dw: number[]
}

async function runChild(threads: string): Promise<ChildResult> {
  // A hung pool (workers keeping Node alive) fails the test through the timeout.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child], {
    env: { ...process.env, WORKBENCH_BACKEND: 'wasm', WORKBENCH_WASM_THREADS: threads },
    timeout: 60_000
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as ChildResult
}

describe('wasm threaded build in Node', () => {
  it('starts with 2 threads, computes what the single-threaded build does, and lets the process exit', async () => {
    const [one, two] = await Promise.all([runChild('1'), runChild('2')])
    expect(one.threads).toBe(1)
    expect(two.threads).toBe(2)
    expect(two.notes.join(' ')).toMatch(/threaded build runs with 2 threads/)
    for (const key of ['y', 'dx', 'dw'] as const) {
      const scale = Math.max(...one[key].map(Math.abs))
      two[key].forEach((v, i) => expect(Math.abs(v - one[key][i])).toBeLessThanOrEqual(1e-5 * scale))
    }
  }, 120_000)

  it('rejects a thread count that is not a whole number', async () => {
    await expect(runChild('two')).rejects.toThrow(/WORKBENCH_WASM_THREADS='two' is not a thread count/)
  }, 60_000)
})
