import { spawn, type ChildProcess } from 'node:child_process'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the workbench CLI (`npm run cli -- …`) in a child process under tsx. `env` is laid over this
 * process's environment; `whileRunning` gets the child, e.g. to signal it.
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; whileRunning?: (child: ChildProcess) => unknown } = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', fail)
    child.on('exit', (code) => done({ code, stdout, stderr }))
    void options.whileRunning?.(child)
  })
}
