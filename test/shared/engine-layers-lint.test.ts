import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// The engine's layering and the no-cycle rule in eslint.config.js, shown failing on the kind of import
// that once crept in (models importing train/, backend and train importing each other). Lints text under
// the repository's own config, as `npm run lint` would; the file named need not exist.
const root = fileURLToPath(new URL('../..', import.meta.url))

describe('engine layers lint', () => {
  let eslint: ESLint
  beforeAll(() => {
    eslint = new ESLint({ cwd: root })
  })
  const messages = async (code: string, filePath: string, rule: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath })
    return result.messages.filter((m) => m.ruleId === rule).map((m) => m.message)
  }

  it.each([
    ['src/engine/models/probe.ts', `export { train } from '../train/trainer'`],
    ['src/engine/data/probe.ts', `export type { VizService } from '../viz/viz-service'`],
    ['src/engine/backend/simd/probe.ts', `export { runFeatureStudy } from '../../features/study'`],
    ['src/engine/models/import/probe.ts', `export { createWorkbenchServer } from '../../api/create-workbench-server'`]
  ])('refuses an upward import from %s', async (file, code) => {
    const found = await messages(code, file, 'no-restricted-imports')
    expect(found).toHaveLength(1)
    expect(found[0]).toContain('Engine layers run downhill')
  })

  it('allows downhill imports and shared files whose names match a layer', async () => {
    const code = `export { loadCheckpoint } from './checkpoint'\nexport { checkpointPreprocessing } from '../../shared/features'\nexport { selectBackend } from '../backend/select-backend'\n`
    expect(await messages(code, 'src/engine/models/probe.ts', 'no-restricted-imports')).toEqual([])
    // train may import models, data and backend.
    expect(await messages(`export { loadCheckpoint } from '../models/checkpoint'`, 'src/engine/train/probe.ts', 'no-restricted-imports')).toEqual([])
  })

  it('finds an import cycle through a file on disk', async () => {
    // select-backend.ts imports worker-count.ts; this version of worker-count.ts would import it back.
    const code = `import type { BackendInfo } from './select-backend'\nexport type Probe = BackendInfo\n`
    const cycle = await messages(`import { selectBackend } from './select-backend'\nexport const probe = selectBackend\n`, 'src/engine/backend/worker-count.ts', 'import-x/no-cycle')
    expect(cycle).toHaveLength(1)
    expect(await messages(code.replace('./select-backend', '../../shared/backend'), 'src/engine/backend/worker-count.ts', 'import-x/no-cycle')).toEqual([])
  })
})
