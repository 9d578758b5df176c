import { defineConfig } from 'vitest/config'

export default defineConfig({
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
