/**
 * Sweeps on a real single-node Slurm started by the test (see slurm-cluster.ts): submission as job
 * arrays, a failing task and its cancelled dependents, resubmission of only what is not done, cancel
 * of a running task and its resumption. Skipped, saying why, where Slurm is not installed.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cancelProject } from '../../src/engine/slurm/cancel'
import { renderArrayScript, renderSubmitScript, type ArrayPlan, type ScriptContext } from '../../src/engine/slurm/sbatch-script'
import type { ProjectStatus } from '../../src/engine/slurm/status'
import type { SubmitResult } from '../../src/engine/slurm/submit'
import { readMetrics } from '../../src/engine/project/metrics-log'
import { listRuns } from '../../src/engine/project/project-store'
import { clusterCli, slurmTaskLogs } from '../engine/slurm/helpers/cluster-cli'
import { makeSweepProject } from '../engine/slurm/helpers/sweep-project'
import { NODE_NAME, slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../engine/slurm/helpers/slurm-cluster'

const SKIP = slurmSkipReason()
if (SKIP) console.warn(`skipping the real-Slurm tests: ${SKIP}`)

let cluster: SlurmCluster | undefined


async function status(project: string): Promise<ProjectStatus> {
  const result = await clusterCli(cluster, ['status', '--project', project, '--json'])
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as ProjectStatus
}

/** Polls `status` until no run is queued or running (bounded), returning the last status. */
async function settle(project: string, timeoutMs: number): Promise<ProjectStatus> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const current = await status(project)
    if (current.counts.queued + current.counts.running === 0) return current
    if (Date.now() > deadline) throw new Error(`still ${current.counts.queued} queued, ${current.counts.running} running after ${timeoutMs / 1000} s\n${await cluster?.logs()}`)
    await new Promise((r) => setTimeout(r, 1500))
  }
}


/** A name that once ended a comment line of the generated scripts and ran `touch pwned`. */
const HOSTILE_NAME = 'lab study\ntouch pwned\n# '

const TINY = ['--dataset', 'demo', '--group', 'A=0,1,2', '--group', 'B=3,4,5', '--width', '0.0625', '--train-per-class', '16', '--epochs', '1']

describe.skipIf(SKIP !== undefined)('sweeps on a real single-node Slurm', () => {
  beforeAll(async () => {
    cluster = await startSlurmCluster()
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  }, 60_000)

  it('bases then transfers as dependent arrays; a failed base cancels the transfers; resume resubmits only those; all runs end done with their job and node', async () => {
    const project = await mkdtemp(join(tmpdir(), 'wb-slurm-sweep-'))
    // Base task 1 fails once (exit 3) before the CLI starts, as a broken node would.
    const failOnce = `if [ "\${SLURM_JOB_NAME##*-}" = base ] && [ "$SLURM_ARRAY_TASK_ID" = 1 ] && mkdir ${project}/.failed-once 2>/dev/null; then echo 'failing on purpose' >&2; exit 3; fi`
    const sweep = await clusterCli(cluster, ['sweep', '--project', project, ...TINY, '--transfer', 'A:B', '--variants', 'AnB,BnB', '--n', '1,5',
      '--executor', 'slurm', '--max-parallel', '2', '--cpus-per-task', '1', '--time', '10', '--task-setup', failOnce, '--json'])
    expect(sweep.code, sweep.stderr).toBe(0)
    const first = JSON.parse(sweep.stdout) as SubmitResult
    const [baseArray, transferArray] = first.submission?.arrays ?? []
    expect(baseArray?.runIds).toHaveLength(2)
    expect(transferArray?.runIds).toHaveLength(4)
    expect(transferArray?.dependencies).toEqual([baseArray?.jobId])

    const afterFailure = await settle(project, 150_000)
    expect(afterFailure.counts).toMatchObject({ done: 1, failed: 1, cancelled: 4 })
    const failed = afterFailure.rows.find((r) => r.state === 'failed')
    expect(failed).toMatchObject({ id: baseArray?.runIds[1], jobId: `${baseArray?.jobId}_1`, exitCode: 3 })
    expect(afterFailure.rows.filter((r) => r.state === 'cancelled').every((r) => r.detail === 'cancelled: DependencyNeverSatisfied')).toBe(true)

    const resume = await clusterCli(cluster, ['resume', '--project', project, '--executor', 'slurm', '--json'])
    expect(resume.code, resume.stderr).toBe(0)
    const second = JSON.parse(resume.stdout) as SubmitResult
    expect(second.done).toEqual([baseArray?.runIds[0]])
    expect(second.submission?.arrays.map((a) => [a.phase, a.runIds])).toEqual([['base', [baseArray?.runIds[1]]], ['transfer', transferArray?.runIds]])
    expect(second.submission?.options).toMatchObject({ maxParallel: 2, cpusPerTask: 1, time: '10' }) // inherited

    const final = await settle(project, 200_000)
    expect(final.counts.done).toBe(6)
    for (const row of final.rows) {
      expect(row.jobId, row.id).toMatch(/^\d+_\d+$/)
      expect(row.node).toBe(NODE_NAME)
    }
    for (const run of await listRuns(project)) {
      const fields = run as unknown as { executor: string; slurmJobId: string; node: string }
      expect(fields.executor, run.id).toBe('slurm')
      expect(fields.node).toBe(NODE_NAME)
      expect(fields.slurmJobId).toBe(final.rows.find((r) => r.id === run.id)?.jobId)
    }
    const logs = await readdir(join(project, 'slurm', '001', 'logs'))
    expect(logs.length).toBeGreaterThanOrEqual(2)
    const failedLog = await readFile(join(project, 'slurm', '001', 'logs', logs.find((f) => f.endsWith(`_${baseArray?.jobId}_1.out`)) as string), 'utf8')
    expect(failedLog).toContain('failing on purpose')

    // The results equal a local sweep's in form: the same runs (ids are content hashes), the same columns and files.
    const local = await mkdtemp(join(tmpdir(), 'wb-local-sweep-'))
    const localSweep = await clusterCli(cluster, ['sweep', '--project', local, ...TINY, '--transfer', 'A:B', '--variants', 'AnB,BnB', '--n', '1,5', '--json'])
    expect(localSweep.code, localSweep.stderr).toBe(0)
    const slurmReport = JSON.parse((await clusterCli(cluster, ['report', '--project', project, '--json'])).stdout) as { runs: Record<string, unknown>[] }
    const localReport = JSON.parse(localSweep.stdout) as { runs: Record<string, unknown>[] }
    expect(slurmReport.runs.map((r) => r.id).sort()).toEqual(localReport.runs.map((r) => r.id).sort())
    expect(slurmReport.runs.map((r) => Object.keys(r).join())).toEqual(localReport.runs.map((r) => Object.keys(r).join()))
    for (const run of slurmReport.runs) {
      for (const file of ['run.json', 'metrics.jsonl', 'best/model.json', 'last/model.json']) expect(existsSync(join(project, 'runs', run.id as string, file)), `${run.id}/${file}`).toBe(true)
    }
  }, 420_000)

  it('cancel stops a running task (its run saved as interrupted), resume continues it from its last epoch', async () => {
    const project = await mkdtemp(join(tmpdir(), 'wb-slurm-cancel-'))
    const sweep = await clusterCli(cluster, ['sweep', '--project', project, '--dataset', 'demo', '--group', 'A=0,1,2', '--width', '0.0625', '--train-per-class', '48', '--batch-size', '16', '--epochs', '12',
      '--executor', 'slurm', '--cpus-per-task', '1'])
    expect(sweep.code, sweep.stderr).toBe(0)
    const [run] = await listRuns(project)
    const metricsFile = join(project, 'runs', run?.id as string, 'metrics.jsonl')
    const deadline = Date.now() + 120_000
    while (!(await readMetrics(metricsFile)).some((m) => m.type === 'epoch')) {
      if (Date.now() > deadline) throw new Error(`no epoch finished in 120 s\n${await cluster?.logs()}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    // The engine's cancel directly: the CLI takes seconds to start, long enough for this run to finish.
    // (`cli cancel` is the same call plus printing; it is run below.)
    const cancel = await cancelProject(project, async (command, args) => (cluster as SlurmCluster).command(command, args))
    expect(cancel).toMatchObject({ activeTasks: 1 })

    const stopped = await settle(project, 60_000)
    const row = stopped.rows[0]
    expect(row).toMatchObject({ state: 'cancelled', jobState: 'CANCELLED', runStatus: 'interrupted' })
    expect(row?.epochs).toBeGreaterThanOrEqual(1)
    // Epochs are short and `cancel` takes a moment to start: a few more may finish, not all.
    expect(row?.epochs).toBeLessThan(12)
    console.log(`cancelled after epoch ${row?.epochs} of 12`)

    const resume = await clusterCli(cluster, ['resume', '--project', project, '--executor', 'slurm'])
    expect(resume.code, resume.stderr).toBe(0)
    // Under load slurmctld may list the new job a moment after sbatch returns; until then the folder
    // still says interrupted. Wait to see it picked up before waiting for it to finish.
    for (let i = 0; i < 120; i++) {
      const state = (await status(project)).rows[0]?.state
      if (state === 'queued' || state === 'running' || state === 'done') break
      await new Promise((r) => setTimeout(r, 250))
    }
    const final = await settle(project, 150_000)
    expect(final.counts.done, `${JSON.stringify(final.rows)}\n${await slurmTaskLogs(project)}`).toBe(1)
    const epochs = (await readMetrics(metricsFile)).filter((m) => m.type === 'epoch').map((m) => m.epoch)
    expect(epochs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    const [done] = await listRuns(project)
    const jobs = (done as unknown as { slurmJobs: { jobId: string }[] }).slurmJobs.map((j) => j.jobId)
    expect(jobs).toHaveLength(2)
    expect(jobs[0]).not.toBe(jobs[1])
    // The finished task's job can stay listed (COMPLETING) a moment after its run is done.
    for (let i = 0; i < 120 && (cluster as SlurmCluster).command('squeue', ['--noheader', '--format=%A']).stdout.trim() !== ''; i++) {
      await new Promise((r) => setTimeout(r, 250))
    }
    const again = await clusterCli(cluster, ['cancel', '--project', project])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('no queued or running jobs')
  }, 300_000)

  it('a hostile project name runs nothing: its scripts submitted with the real sbatch run no command from it, and the CLI refuses a project.json holding it', async () => {
    const c = cluster as SlurmCluster
    const work = await mkdtemp(join(tmpdir(), 'wb-slurm-inject-'))
    const folder = join(work, 'slurm', '001')
    await mkdir(join(folder, 'logs'), { recursive: true })
    // Rendered directly (the engine now refuses such a name before rendering): the scripts themselves must hold.
    const array: ArrayPlan = { name: 'base', phase: 'base', jobName: 'wb-inject-base', runIds: ['r0'], script: join(folder, 'base.sbatch'), runList: join(folder, 'base.runs'), logDir: join(folder, 'logs'), afterArrays: [], afterJobs: [] }
    const context: ScriptContext = { projectDir: work, projectName: HOSTILE_NAME, submissionId: '001', options: { cpusPerTask: 1, time: '2' }, launcher: { cwd: work, argv: ['true'] } }
    await writeFile(array.runList, 'r0\n')
    await writeFile(array.script, renderArrayScript(array, context))
    await writeFile(join(folder, 'submit.sh'), renderSubmitScript([array], context))
    // submit.sh on the submitting machine (from the project folder), the batch script on the node.
    const submitted = spawnSync('bash', [join(folder, 'submit.sh')], { cwd: work, env: { ...process.env, ...c.env }, encoding: 'utf8' })
    expect(submitted.status, submitted.stderr).toBe(0)
    const jobId = /^base: job (\d+) /.exec(submitted.stdout)?.[1] as string
    expect(jobId).toMatch(/^\d+$/)
    for (let i = 0; i < 240 && c.command('squeue', ['--noheader', '--jobs', jobId, '--format=%A']).stdout.trim() !== ''; i++) await new Promise((r) => setTimeout(r, 250))
    expect(c.command('squeue', ['--noheader', '--jobs', jobId, '--format=%A']).stdout.trim()).toBe('')
    const pwned = (await readdir(work, { recursive: true })).filter((f) => String(f).split('/').pop() === 'pwned')
    expect(pwned).toEqual([])
    expect((await readdir(join(folder, 'logs'))).length, 'the task ran and wrote its log').toBe(1)

    // The CLI on a project (shared by a colleague) whose project.json carries the name: refused, nothing submitted.
    const project = await makeSweepProject()
    const manifest = JSON.parse(await readFile(join(project, 'project.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(project, 'project.json'), JSON.stringify({ ...manifest, name: HOSTILE_NAME }))
    const resume = await clusterCli(cluster, ['resume', '--project', project, '--executor', 'slurm'])
    expect(resume.code).toBe(1)
    expect(resume.stderr).toMatch(/project\.json: name "lab study\\ntouch pwned\\n# " holds a line break/)
    expect(existsSync(join(project, 'slurm'))).toBe(false)
    expect(c.command('squeue', ['--noheader', '--format=%A']).stdout.trim()).toBe('')
  }, 240_000)
})
