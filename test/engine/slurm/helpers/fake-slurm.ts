import { readFileSync } from 'node:fs'
import type { CommandResult, SlurmRunner } from '../../../../src/engine/slurm/slurm-commands'

interface FakeTask {
  state: string
  reason: string
  exitCode: number
  node: string
}

/**
 * A stand-in for the Slurm commands, answering in their real output formats (captured from Slurm
 * 22.05): sbatch hands out job ids, squeue/scontrol report the tasks' states as the test sets them,
 * sacct says accounting is disabled, scancel cancels. Every call is recorded.
 */
export class FakeSlurm {
  readonly calls: { command: string; args: string[] }[] = []
  readonly jobs = new Map<string, { script: string; dependency: string | null; tasks: FakeTask[] }>()
  private nextId = 100
  /** When set, the next sbatch fails with this message. */
  failNextSbatch: string | null = null

  readonly run: SlurmRunner = async (command, args) => {
    this.calls.push({ command, args })
    switch (command) {
      case 'sbatch':
        return this.sbatch(args)
      case 'squeue':
        return this.squeue(args)
      case 'scontrol':
        return this.scontrol(args)
      case 'scancel':
        for (const id of args) for (const task of this.jobs.get(id)?.tasks ?? []) if (['PENDING', 'RUNNING'].includes(task.state)) Object.assign(task, { state: 'CANCELLED', reason: 'None' })
        return ok('')
      case 'sacct':
        return { code: 1, stdout: '', stderr: 'Slurm accounting storage is disabled' }
      default:
        return { code: 127, stdout: '', stderr: `${command}: not found`, missing: true }
    }
  }

  /** Sets a task's state (and exit code) as the scheduler would. */
  set(jobId: string, state: string, exitCode = 0, reason = 'None'): void {
    const [id, task] = jobId.split('_') as [string, string]
    const t = this.jobs.get(id)?.tasks[Number(task)]
    if (!t) throw new Error(`no task ${jobId}`)
    Object.assign(t, { state, exitCode, reason, node: state === 'PENDING' ? '' : 'node7' })
  }

  /** Job ids in submission order. */
  get jobIds(): string[] {
    return [...this.jobs.keys()]
  }

  private sbatch(args: string[]): CommandResult {
    if (args[0] === '--version') return ok('slurm 22.05.8\n')
    if (this.failNextSbatch) {
      const stderr = this.failNextSbatch
      this.failNextSbatch = null
      return { code: 1, stdout: '', stderr }
    }
    const script = args.at(-1) as string
    const array = /^#SBATCH --array=0-(\d+)/m.exec(readFileSync(script, 'utf8'))
    if (!array) return { code: 1, stdout: '', stderr: 'sbatch: error: not an array script' }
    const id = String(this.nextId++)
    const dependency = args.find((a) => a.startsWith('--dependency='))?.slice('--dependency='.length) ?? null
    const tasks = Array.from({ length: Number(array[1]) + 1 }, () => ({ state: 'PENDING', reason: dependency ? 'Dependency' : 'None', exitCode: 0, node: '' }))
    this.jobs.set(id, { script, dependency, tasks })
    return ok(`${id}\n`)
  }

  private squeue(args: string[]): CommandResult {
    const ids = (args.find((a) => a.startsWith('--jobs='))?.slice(7) ?? '').split(',').filter((id) => this.jobs.has(id))
    if (ids.length === 0) return { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n' }
    const lines = ids.flatMap((id) => (this.jobs.get(id)?.tasks ?? []).map((t, i) => `${id}_${i}|${id}|${i}|${t.state}|${t.reason}|${t.node}`))
    return ok(`${lines.join('\n')}\n`)
  }

  private scontrol(args: string[]): CommandResult {
    const id = args.at(-1) as string
    const job = this.jobs.get(id)
    if (!job) return { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n' }
    const lines = job.tasks.map((t, i) => `JobId=${Number(id) + 1000 + i} ArrayJobId=${id} ArrayTaskId=${i} JobName=x JobState=${t.state} Reason=${t.reason} Dependency=(null) ExitCode=${t.exitCode}:0 NodeList=${t.node} BatchHost=${t.node}`)
    return ok(`${lines.join('\n')}\n`)
  }
}

function ok(stdout: string): CommandResult {
  return { code: 0, stdout, stderr: '' }
}
