import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, type CliResult } from '../helpers/run-cli'
import { readMetrics } from '../../src/engine/project/metrics-log'
import { readRun } from '../../src/engine/project/project-store'
import { writeProjectPlan } from '../../src/engine/train/sweep'
import { makeSweepProject } from '../engine/slurm/helpers/sweep-project'

/** Runs `cli run-one` as an array task would; `whileRunning` may signal it (SIGTERM, as Slurm does). */
function runOne(args: string[], env: Record<string, string>, whileRunning?: (kill: () => void) => Promise<void>): Promise<CliResult> {
  return runCli(['run-one', ...args], { env: { WORKBENCH_BACKEND: 'wasm', ...env }, whileRunning: (child) => whileRunning?.(() => child.kill('SIGTERM')) })
}

const slurmEnv = (arrayJob: string, node: string): Record<string, string> => ({ SLURM_JOB_ID: String(Number(arrayJob) + 1), SLURM_ARRAY_JOB_ID: arrayJob, SLURM_ARRAY_TASK_ID: '0', SLURMD_NODENAME: node })

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('cli run-one (an array task)', () => {
  it('SIGTERM (time limit, preemption) leaves the run interrupted; the next task resumes it, every epoch once', async () => {
    const project = await makeSweepProject({ epochs: 6, trainPerClass: 48, batchSize: 16 })
    const [base] = await writeProjectPlan(project)
    const runId = (base as { id: string }).id
    const list = join(project, 'task.runs')
    await writeFile(list, `${runId}\n`)
    const metricsFile = join(project, 'runs', runId, 'metrics.jsonl')

    const first = await runOne(['--project', project, '--run-list', list], slurmEnv('900', 'node-a'), async (kill) => {
      // Signal once an epoch is saved, as Slurm would at an arbitrary point of training.
      await until(async () => (await readMetrics(metricsFile)).some((m) => m.type === 'epoch'), 90_000)
      kill()
    })
    expect(first.code, first.stderr).toBe(143)
    const stopped = await readRun(project, runId)
    expect(stopped.status).toBe('interrupted')
    expect(stopped.epochs).toBeGreaterThanOrEqual(1)
    expect(stopped.epochs).toBeLessThan(6)
    expect(stopped.error).toMatch(/SIGTERM/)
    expect(stopped).toMatchObject({ executor: 'slurm', slurmJobId: '900_0', node: 'node-a' })

    const second = await runOne(['--project', project, '--run-list', list], slurmEnv('950', 'node-b'))
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).toContain(`resuming after epoch ${stopped.epochs}`)
    const done = await readRun(project, runId)
    expect(done).toMatchObject({ status: 'done', epochs: 6, executor: 'slurm', slurmJobId: '950_0', node: 'node-b' })
    expect((done as unknown as { slurmJobs: { jobId: string; node: string }[] }).slurmJobs.map((j) => `${j.jobId}@${j.node}`)).toEqual(['900_0@node-a', '950_0@node-b'])
    const epochs = (await readMetrics(metricsFile)).filter((m) => m.type === 'epoch').map((m) => m.epoch)
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6])
    expect(existsSync(join(project, 'runs', runId, 'best', 'model.json'))).toBe(true)

    // A task for a run already done (a requeue after it finished) does nothing and succeeds.
    const again = await runOne(['--project', project, '--run', runId], {})
    expect(again.code).toBe(0)
    expect(await readRun(project, runId)).toMatchObject({ slurmJobId: '950_0' })
  }, 240_000)

  it('refuses a task id outside the run list, and a transfer whose base is not done', async () => {
    const project = await makeSweepProject()
    const runs = await writeProjectPlan(project)
    const list = join(project, 'transfer.runs')
    const transfer = runs.find((r) => r.kind === 'transfer') as { id: string }
    await writeFile(list, `${transfer.id}\n`)
    const outside = await runOne(['--project', project, '--run-list', list, '--index', '3'], {})
    expect(outside.code).toBe(1)
    expect(outside.stderr).toContain('no run for task 3 (the list has 1 runs')
    const early = await runOne(['--project', project, '--run-list', list], { SLURM_ARRAY_TASK_ID: '0' })
    expect(early.code).toBe(1)
    expect(early.stderr).toMatch(/source run base-\S+ is planned, not done/)
    const usage = await runOne(['--project', project], {})
    expect(usage.code).toBe(2)
  }, 120_000)
})
