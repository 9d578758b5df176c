import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { SlurmCluster } from './slurm-cluster'

const ROOT = resolve(import.meta.dirname, '../../../..')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The workbench CLI with a test cluster's SLURM_CONF and the wasm backend: sbatch hands this
 * environment on to the array tasks.
 */
export function clusterCli(cluster: SlurmCluster | undefined, args: string[]): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...cluster?.env, WORKBENCH_BACKEND: 'wasm' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', fail)
    child.on('exit', (code) => done({ code, stdout, stderr }))
  })
}

/** Every array task's log of a project, for failure messages. */
export async function slurmTaskLogs(project: string): Promise<string> {
  const out: string[] = []
  for (const submission of await readdir(join(project, 'slurm')).catch(() => [] as string[])) {
    const dir = join(project, 'slurm', submission, 'logs')
    for (const file of await readdir(dir).catch(() => [] as string[])) out.push(`--- ${submission}/${file}\n${await readFile(join(dir, file), 'utf8')}`)
  }
  return out.join('\n')
}
