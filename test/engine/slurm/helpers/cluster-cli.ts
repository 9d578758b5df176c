import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, type CliResult } from '../../../helpers/run-cli'
import type { SlurmCluster } from './slurm-cluster'

/**
 * The workbench CLI with a test cluster's SLURM_CONF and the wasm backend: sbatch hands this
 * environment on to the array tasks.
 */
export function clusterCli(cluster: SlurmCluster | undefined, args: string[]): Promise<CliResult> {
  return runCli(args, { env: { ...cluster?.env, WORKBENCH_BACKEND: 'wasm' } })
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
