import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// The runtime boundaries in eslint.config.js must reach the renderer's single-file components, not only its .ts.
// Lints text under the repository's own config, as `npm run lint` would; the file need not exist.
const root = fileURLToPath(new URL('../..', import.meta.url))
const component = 'src/renderer/src/components/BoundaryProbe.vue'

const sfc = (imports: string): string => `<script setup lang="ts">
${imports}
const props = defineProps<{ items: string[] }>()
</script>

<template>
  <ul class="probe">
    <li v-for="item in props.items" :key="item">{{ item }} {{ used }}</li>
  </ul>
</template>
`

describe('lint boundaries reach .vue files', () => {
  let eslint: ESLint
  beforeAll(() => {
    eslint = new ESLint({ cwd: root })
  })

  const lint = async (code: string, filePath = component): Promise<ESLint.LintResult> => {
    const [result] = await eslint.lintText(code, { filePath })
    return result
  }
  const restricted = (result: ESLint.LintResult): string[] =>
    result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)

  it('lints .vue files at all (not ignored, parsed as Vue with TypeScript script)', async () => {
    expect(await eslint.isPathIgnored(component)).toBe(false)
    const config = await eslint.calculateConfigForFile(component)
    expect(config.rules?.['no-restricted-imports']?.[0]).toBe(2)
    const result = await lint(sfc(`import { ref } from 'vue'\nconst used = ref(1)`))
    expect(result.messages).toEqual([])
  })

  it.each([
    ['the engine', `import { used } from '../../../engine/backend/select'`, 'contract only'],
    ['a Node built-in', `import { readFileSync as used } from 'node:fs'`, 'No Node built-ins'],
    ['a bare Node built-in', `import used from 'path'`, 'No Node built-ins'],
    ['electron', `import { ipcRenderer as used } from 'electron'`, 'electron belongs in src/main'],
    ['Electron main', `import { used } from '../../../main/index'`, 'Only Electron main'],
    ['tfjs', `import * as used from '@tensorflow/tfjs'`, 'tfjs belongs in src/engine']
  ])('rejects a component that imports %s', async (_what, imports, message) => {
    const found = restricted(await lint(sfc(imports)))
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it('rejects type-only engine imports too', async () => {
    const found = restricted(await lint(sfc(`import type { RunRecord as used } from '../../../engine/runs'`)))
    expect(found).toHaveLength(1)
  })

  it('accepts a component that imports only shared code and its UI libraries', async () => {
    const result = await lint(
      sfc(`import { computed } from 'vue'
import { defineStore } from 'pinia'
import { Chart } from 'chart.js'
import { DEFAULT_TRAIN_CONFIG } from '../../../shared/train-config'
const used = computed(() => [defineStore, Chart, DEFAULT_TRAIN_CONFIG].length)`)
    )
    expect(result.messages).toEqual([])
  })

  it('applies eslint-plugin-vue rules to the template', async () => {
    const result = await lint(`<script setup lang="ts">
const items = ['a', 'b']
</script>

<template>
  <ul><li v-for="item in items">{{ item }}</li></ul>
</template>
`)
    expect(result.messages.map((m) => m.ruleId)).toContain('vue/require-v-for-key')
  })

  it('holds the same line for the renderer .ts files', async () => {
    const found = restricted(await lint(`import { readFileSync } from 'node:fs'\nexport const x = readFileSync`, 'src/renderer/src/stores/probe.ts'))
    expect(found).toHaveLength(1)
  })
})
