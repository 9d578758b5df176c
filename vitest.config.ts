import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Component tests (test/renderer) mount .vue files; each picks its DOM with `// @vitest-environment`.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // tfjs keeps one global engine per process; isolate files in their own processes.
    pool: 'forks',
    // Two cores: two test files at a time at most, so training tests are not starved.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
