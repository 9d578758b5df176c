import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { forkBackendProbe } from '../../engine/api/backend-probe'
import { createWorkbenchServer } from '../../engine/api/create-workbench-server'
import { isLoopbackHost, startServeServer } from '../../engine/api/serve-server'
import { createJsonSettingsStore } from '../../engine/api/settings-store'
import { forkTrainerProcess } from '../../engine/process/trainer-host'
import { numberFlag, UsageError } from '../args'

export const SERVE_USAGE = `usage: cli serve [--port N] [--host H] [--runs DIR] [--data DIR …] [--settings FILE] [--rebuild]`

/** Default port; `--port 0` picks a free one. */
export const DEFAULT_SERVE_PORT = 8765

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

export interface ServeArgs {
  port: number
  host: string
  runsDir: string
  datasetDirs: string[]
  settingsFile: string
  rebuild: boolean
}

/** Parses the serve command line. */
export function parseServeArgs(argv: string[]): ServeArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      runs: { type: 'string' },
      data: { type: 'string', multiple: true },
      settings: { type: 'string' },
      rebuild: { type: 'boolean' }
    }
  })
  const port = numberFlag('port', values.port) ?? DEFAULT_SERVE_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: ${port} is not a port number`)
  const configHome = process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config')
  return {
    port,
    host: values.host ?? '127.0.0.1',
    runsDir: resolve(values.runs ?? 'workbench-runs'),
    datasetDirs: (values.data ?? []).map((d) => resolve(d)),
    settingsFile: resolve(values.settings ?? join(configHome, 'transfer-workbench', 'serve-settings.json')),
    rebuild: values.rebuild ?? false
  }
}

/** The warning printed when serving beyond this machine; undefined on a loopback address. */
export function exposureWarning(host: string, port: number): string | undefined {
  if (isLoopbackHost(host)) return undefined
  return (
    `warning: serving on ${host}, reachable from other machines. Anyone with the URL (token included) can train models and read\n` +
    `         image folders on this machine, over plain HTTP. Prefer the default 127.0.0.1 and an SSH tunnel (ssh -L ${port}:127.0.0.1:${port} host).\n`
  )
}

/** Builds the app (renderer included) with electron-vite, as `npm run build` does. */
async function buildRenderer(): Promise<void> {
  const require = createRequire(import.meta.url)
  const bin = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js')
  process.stderr.write('serve: building the renderer (once; out/renderer is reused afterwards)…\n')
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, [bin, 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('exit', done)
  })
  if (code !== 0) throw new Error(`electron-vite build failed (exit code ${code})`)
}

/**
 * `cli serve`: the app in any browser. Serves the built renderer (building it if `out/renderer` is
 * missing) and the contract over a WebSocket, bound to 127.0.0.1 unless told otherwise, and prints a
 * URL with a random token. Runs until Ctrl-C, then stops the trainer.
 */
export async function runServeCommand(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv)
  const rendererDir = join(ROOT, 'out', 'renderer')
  if (args.rebuild || !existsSync(join(rendererDir, 'index.html'))) await buildRenderer()
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  const server = createWorkbenchServer({
    host: 'serve',
    appVersion: version,
    runsDir: args.runsDir,
    datasetDirs: args.datasetDirs,
    launchTrainer: () => forkTrainerProcess(),
    launchProbe: () => forkBackendProbe(),
    settings: createJsonSettingsStore(args.settingsFile)
  })
  const running = await startServeServer({ server, rendererDir, host: args.host, port: args.port })
  const warning = exposureWarning(args.host, running.port)
  if (warning) process.stderr.write(warning)
  process.stdout.write(`Transfer Workbench is serving at\n\n  ${running.url}\n\nruns go to ${args.runsDir}; Ctrl-C stops.\n`)
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      done()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  process.stderr.write('serve: stopping\n')
  await running.close()
  await server.shutdown()
  return 0
}
