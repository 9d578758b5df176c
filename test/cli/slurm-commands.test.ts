import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, type CliResult } from '../helpers/run-cli'
import { submitProject } from '../../src/engine/slurm/submit'
import { executorFrom, launcherFrom, slurmOptionsFrom } from '../../src/cli/slurm-flags'
import { FakeSlurm } from '../engine/slurm/helpers/fake-slurm'
import { makeSweepProject } from '../engine/slurm/helpers/sweep-project'

/** Runs the CLI with a PATH that holds no Slurm command, as on a laptop. */
async function cliWithoutSlurm(args: string[]): Promise<CliResult> {
  return runCli(args, { env: { PATH: await mkdtemp(join(tmpdir(), 'wb-nobin-')) } })
}

describe('Slurm flags', () => {
  it('local is the default and refuses Slurm-only flags', () => {
    expect(executorFrom({})).toBe('local')
    expect(executorFrom({ executor: 'slurm', partition: 'gpu' })).toBe('slurm')
    expect(() => executorFrom({ partition: 'gpu', 'max-parallel': '4' })).toThrow('--partition, --max-parallel apply only with --executor slurm')
    expect(() => executorFrom({ executor: 'kubernetes' })).toThrow(/local or slurm/)
  })

  it('maps flags to options, numbers checked, only what was given', () => {
    expect(slurmOptionsFrom({ partition: 'gpu', 'gpus-per-task': '1', 'max-parallel': '8', 'sbatch-arg': ['--qos=short'] })).toEqual({ partition: 'gpu', gpusPerTask: 1, maxParallel: 8, sbatchArgs: ['--qos=short'] })
    expect(() => slurmOptionsFrom({ 'cpus-per-task': 'four' })).toThrow(/--cpus-per-task/)
  })

  it('array tasks start the CLI as given by --cli, else as before, else as now', () => {
    expect(launcherFrom({ cli: 'node /shared/wb/cli.js' }, { cwd: '/x', argv: ['old'] }, '/shared/proj')).toEqual({ cwd: '/shared/proj', argv: ['node', '/shared/wb/cli.js'] })
    expect(launcherFrom({}, { cwd: '/x', argv: ['old'] }).argv).toEqual(['old'])
    expect(launcherFrom({}).argv[0]).toBe(process.execPath)
  })
})

describe('Slurm commands from the CLI without Slurm', () => {
  it('status follows the run folders and says why', async () => {
    const project = await makeSweepProject()
    await submitProject(project, { slurm: {}, launcher: { cwd: '/', argv: ['node'] }, run: new FakeSlurm().run })
    const result = await cliWithoutSlurm(['status', '--project', project, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const status = JSON.parse(result.stdout)
    expect(status).toMatchObject({ schedulerAvailable: false, counts: { queued: 6 } })
    expect(status.note).toMatch(/squeue is not installed/)
  }, 60_000)

  it('sweep --executor slurm checks its flags before touching the project, and says when sbatch is missing', async () => {
    const project = join(await mkdtemp(join(tmpdir(), 'wb-noslurm-')), 'p')
    const sweep = ['sweep', '--project', project, '--dataset', 'demo', '--group', 'A=0,1,2', '--executor', 'slurm']
    const badTime = await cliWithoutSlurm([...sweep, '--time', 'two hours'])
    expect(badTime.code).toBe(1)
    expect(badTime.stderr).toContain('--time')
    expect(existsSync(join(project, 'project.json'))).toBe(false)
    const noSbatch = await cliWithoutSlurm(sweep)
    expect(noSbatch.code).toBe(1)
    expect(noSbatch.stderr).toContain('sbatch is not installed here')
    expect(existsSync(join(project, 'slurm'))).toBe(false)
  }, 60_000)
})
