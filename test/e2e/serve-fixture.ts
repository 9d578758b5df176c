/**
 * `cli serve` for the browser tests, with one difference: the renderer is the one the test just built
 * into its own folder (argv[2]), so a test never serves a stale `out/renderer` and never races another
 * test file rebuilding it. Everything else is wired as `src/cli/commands/serve.ts` wires it.
 * Usage: node --import tsx test/e2e/serve-fixture.ts <rendererDir> <workDir>
 */
import { delimiter, join } from 'node:path'
import { forkBackendProbe } from '../../src/engine/api/backend-probe'
import { createWorkbenchServer } from '../../src/engine/api/create-workbench-server'
import { startServeServer } from '../../src/engine/api/serve-server'
import { createJsonSettingsStore } from '../../src/engine/api/settings-store'
import { forkTrainerProcess } from '../../src/engine/process/trainer-host'

const [rendererDir, workDir] = process.argv.slice(2)
if (!rendererDir || !workDir) throw new Error('usage: serve-fixture.ts <rendererDir> <workDir>')

const server = createWorkbenchServer({
  host: 'serve',
  appVersion: '0.0.0-e2e',
  runsDir: join(workDir, 'runs'),
  dataDir: join(workDir, 'data', 'datasets'),
  // As `serve --data <dir>`: extra folders searched for datasets (a test names them; none by default).
  datasetDirs: (process.env['E2E_DATASET_DIRS'] ?? '').split(delimiter).filter(Boolean),
  launchTrainer: () => forkTrainerProcess(),
  launchProbe: () => forkBackendProbe(),
  settings: createJsonSettingsStore(join(workDir, 'settings.json'))
})
const running = await startServeServer({ server, rendererDir, host: '127.0.0.1', port: 0 })
process.stdout.write(`serving at ${running.url}\n`)

const stop = async (): Promise<void> => {
  await running.close()
  await server.shutdown()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
