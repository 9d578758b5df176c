/**
 * The trainer as the packaged app runs it: electron-vite builds the main bundle, and the built trainer
 * entry, started as a child process, trains on the demo dataset with its data-parallel workers on the
 * built worker entry (the path Electron main hands it). Source-level tests run everything through tsx
 * and cannot see a bundle that fails to load — as one did, when a top-level `require` clashed with the
 * bundler's own.
 */
import { execFile, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainerHost } from '../../src/engine/process/trainer-host'
import { TRAIN_WORKER_ENTRY_ENV } from '../../src/engine/train/parallel/worker-protocol'
import type { TrainEvent } from '../../src/shared/train-request'

const ROOT = join(import.meta.dirname, '../..')
// Inside the project, so the bundle resolves its external packages from node_modules.
const OUT = join(ROOT, 'test-results', 'built-app')

let host: TrainerHost | undefined
let runs: string

async function chunk(prefix: string): Promise<string> {
  const dir = join(OUT, 'main', 'chunks')
  const name = (await readdir(dir)).find((f) => f.startsWith(prefix) && f.endsWith('.js'))
  if (!name) throw new Error(`no ${prefix}*.js in ${dir}`)
  return join(dir, name)
}

beforeAll(async () => {
  await rm(OUT, { recursive: true, force: true })
  await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build', '--outDir', OUT, '--logLevel', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }
  })
  runs = await mkdtemp(join(tmpdir(), 'wb-built-'))
}, 180_000)

afterAll(async () => {
  await host?.shutdown()
  await rm(runs, { recursive: true, force: true })
})

describe('the built trainer entry', () => {
  it('loads under plain Node and trains with two workers on the built worker entry', async () => {
    const child = fork(await chunk('trainer-entry'), [], {
      env: { ...process.env, WORKBENCH_BACKEND: 'wasm', WORKBENCH_TRAIN_WORKERS: '2', [TRAIN_WORKER_ENTRY_ENV]: await chunk('train-worker-entry') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    host = new TrainerHost(child, 5_000)
    const events: TrainEvent[] = []
    const job = host.train(
      { dataset: 'demo', classes: undefined, config: { width: 1 / 16, epochs: 2, batchSize: 32, lr: 0.05, trainPerClass: 24, seed: 4 }, outDir: join(runs, 'built') },
      (e) => events.push(e)
    )
    const outcome = await job.outcome
    expect(outcome).toMatchObject({ status: 'done', epochs: 2, backend: 'wasm' })
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2)
    const status = events.filter((e) => e.type === 'status').map((e) => (e as { message: string }).message)
    expect(status.some((m) => /2 worker threads/.test(m))).toBe(true)
  })
})

describe('the built main', () => {
  it('finds the app icon (resources/icon.png) relative to itself, where the window and the About box look', async () => {
    const main = await readFile(join(OUT, 'main', 'index.js'), 'utf8')
    const path = /\(import\.meta\.dirname, "([^"]*resources\/icon\.png)"\)/.exec(main)?.[1]
    expect(path).toBeDefined()
    const icon = resolve(OUT, 'main', path!)
    expect(icon).toBe(join(ROOT, 'resources', 'icon.png'))
    expect(existsSync(icon)).toBe(true)
  })
})
