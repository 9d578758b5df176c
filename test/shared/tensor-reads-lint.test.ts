import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// The lint guard on synchronous tensor reads in eslint.config.js: dataSync/arraySync block and fail on
// webgpu (DESIGN.md, "The tfjs backend"), so engine and CLI code reads with `await t.data()`, except the
// files that only ever run on wasm/cpu. Lints text under the repository's own config; the files need not exist.
const root = fileURLToPath(new URL('../..', import.meta.url))
const code = `import * as tf from '@tensorflow/tfjs'
export const loss = (t: tf.Tensor): number => t.dataSync()[0] as number
export const rows = (t: tf.Tensor): unknown => t.arraySync()
export const later = async (t: tf.Tensor): Promise<number> => (await t.data())[0] as number
`

describe('tensor reads lint', () => {
  let eslint: ESLint
  beforeAll(() => {
    eslint = new ESLint({ cwd: root })
  })
  const found = async (filePath: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath })
    return result.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message)
  }

  it.each(['src/engine/train/probe.ts', 'src/engine/viz/probe.ts', 'src/engine/models/probe.ts', 'src/cli/commands/probe.ts'])('refuses dataSync and arraySync in %s', async (file) => {
    expect(await found(file)).toEqual(['reads block and fail on webgpu: use await t.data()', 'reads block and fail on webgpu: use await t.data()'])
  })

  it.each(['src/engine/backend/batch-norm-gradient.ts', 'src/engine/models/synced-batch-norm.ts', 'src/engine/train/parallel/probe.ts'])('allows them in the wasm/cpu-only %s', async (file) => {
    expect(await found(file)).toEqual([])
  })
})
