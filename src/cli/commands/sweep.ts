import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Experiment, RunRecord, TransferJob } from '../../shared/project'
import { repeatsProblem } from '../../shared/repeats'
import { TRANSFER_VARIANTS, type TransferVariant } from '../../shared/transfer'
import { readDatasetClassNames } from '../../engine/data/load-dataset'
import { forkTrainerProcess, TrainerCrashedError, TrainerHost } from '../../engine/process/trainer-host'
import { listRuns, openOrCreateProject, readRun, writeProject, writeRun } from '../../engine/project/project-store'
import { reportCells, reportCellsCsv, reportCsv, reportRows } from '../../engine/project/results'
import { createRandom, shuffleInPlace } from '../../engine/random'
import { validateExperiment } from '../../engine/train/plan-sweep'
import { sweepProject } from '../../engine/train/sweep'
import { withProjectLock } from '../../engine/project/project-lock'
import { validateSlurmOptions } from '../../engine/slurm/slurm-options'
import { listFlag, numberFlag, UsageError } from '../args'
import { applyBackendFlag } from '../backend-flag'
import { executorFrom, SLURM_FLAG_OPTIONS, SLURM_FLAGS_USAGE, slurmOptionsFrom } from '../slurm-flags'
import { createSweepProgress } from '../sweep-progress'
import { configFromFlags, TRAINING_FLAG_OPTIONS, TRAINING_FLAGS_USAGE } from '../training-flags'
import { submitAndReport } from './slurm'

export const SWEEP_USAGE = `usage: cli sweep --project DIR --dataset ID --group A=c1,c2,… --group B=… [--random-halves SEED]
  --transfer A:B [--transfer …] [--variants AnB,BnB,AnB+,BnB+] [--n 1,2,…,10 | --n 1-10]
  [--repeats K (each cell K times, seeds seed … seed+K−1)] ${TRAINING_FLAGS_USAGE} [--json]
  ${SLURM_FLAGS_USAGE}`
export const RESUME_USAGE = `usage: cli resume --project DIR [--json] [--executor local|slurm] (with slurm: submits only what is not done
  and not queued; Slurm flags as for sweep, the previous submission's by default)`
export const REPORT_USAGE = 'usage: cli report --project DIR (--json | --csv [--cells])  (per run, with each cell\'s mean, std and count over its repeats; --cells: one line per cell)'

/** Parses `--n 1,5,10` or `--n 1-10` (or a mix: `1-3,7`). */
export function parseDepths(value: string): number[] {
  const out: number[] = []
  for (const part of listFlag(value) ?? []) {
    const range = /^(\d+)-(\d+)$/.exec(part)
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])]
      if (a > b) throw new UsageError(`--n: range ${part} runs backwards`)
      for (let n = a; n <= b; n++) out.push(n)
    } else out.push(numberFlag('n', part) as number)
  }
  return [...new Set(out)]
}

/** Resolves `A=cat,dog` or `A=3,5` (0-based class indices) against the dataset's class names. */
export function parseGroup(value: string, classNames: readonly string[]): [string, string[]] {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new UsageError(`--group '${value}': expected NAME=class,class,…`)
  const name = value.slice(0, eq)
  const members = (listFlag(value.slice(eq + 1)) ?? []).map((item) => {
    if (/^\d+$/.test(item)) {
      const name = classNames[Number(item)]
      if (name === undefined) throw new UsageError(`--group ${value}: class index ${item} is outside 0 … ${classNames.length - 1}`)
      return name
    }
    if (!classNames.includes(item)) throw new UsageError(`--group ${value}: unknown class '${item}'; classes are ${classNames.join(', ')}`)
    return item
  })
  return [name, members]
}

/** Yosinski's split: a seeded random half of the classes is A, the rest B. */
export function randomHalves(classNames: readonly string[], seed: number): Record<string, string[]> {
  const shuffled = shuffleInPlace([...classNames], createRandom(seed))
  const half = Math.floor(shuffled.length / 2)
  const inOrder = (names: string[]): string[] => names.sort((a, b) => classNames.indexOf(a) - classNames.indexOf(b))
  return { A: inOrder(shuffled.slice(0, half)), B: inOrder(shuffled.slice(half)) }
}

/** Adds the experiment to the manifest, merging into an identical one (same dataset, groups and config). */
function mergeExperiment(experiments: Experiment[], incoming: Experiment): Experiment {
  const existing = experiments.find((e) => e.id === incoming.id)
  if (!existing) {
    experiments.push(incoming)
    return incoming
  }
  const key = (t: TransferJob): string => JSON.stringify([t.from, t.to, [...t.variants].sort(), [...t.n].sort((a, b) => a - b)])
  const known = new Set(existing.transfers.map(key))
  for (const t of incoming.transfers) if (!known.has(key(t))) existing.transfers.push(t)
  existing.bases = [...new Set([...existing.bases, ...incoming.bases])]
  // More repeats add runs; fewer never drop runs already planned.
  const repeats = Math.max(existing.repeats ?? 1, incoming.repeats ?? 1)
  if (repeats > 1) existing.repeats = repeats
  return existing
}

/** `cli sweep`: creates or extends the project and runs everything not yet done. */
export async function runSweepCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...TRAINING_FLAG_OPTIONS,
      ...SLURM_FLAG_OPTIONS,
      project: { type: 'string' },
      dataset: { type: 'string' },
      group: { type: 'string', multiple: true },
      'random-halves': { type: 'string' },
      transfer: { type: 'string', multiple: true },
      variants: { type: 'string' },
      n: { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'boolean' }
    }
  })
  if (!values.project) throw new UsageError('--project is required')
  if (!values.dataset) throw new UsageError('--dataset is required')
  applyBackendFlag(values.backend)
  const executor = executorFrom(values)
  const classNames = await readDatasetClassNames(values.dataset)
  const groups: Record<string, string[]> = {}
  const halvesSeed = numberFlag('random-halves', values['random-halves'])
  if (halvesSeed !== undefined) Object.assign(groups, randomHalves(classNames, halvesSeed))
  for (const g of values.group ?? []) {
    const [name, members] = parseGroup(g, classNames)
    groups[name] = members
  }
  const variants = (listFlag(values.variants) ?? [...TRANSFER_VARIANTS]) as TransferVariant[]
  for (const v of variants) if (!(TRANSFER_VARIANTS as readonly string[]).includes(v)) throw new UsageError(`--variants: '${v}' is not one of ${TRANSFER_VARIANTS.join(', ')}`)
  const depths = values.n ? parseDepths(values.n) : []
  const transfers: TransferJob[] = (values.transfer ?? []).map((t) => {
    const [from, to, extra] = t.split(':')
    if (!from || !to || extra !== undefined) throw new UsageError(`--transfer '${t}': expected SOURCE:TARGET, e.g. A:B`)
    if (depths.length === 0) throw new UsageError('--n is required with --transfer')
    return { from, to, variants, n: depths }
  })
  const config = configFromFlags(values)
  const repeats = numberFlag('repeats', values.repeats) ?? 1
  const repeatsError = repeatsProblem(repeats)
  if (repeatsError) throw new UsageError(`--repeats ${values.repeats}: ${repeatsError}`)
  // The id leaves repeats out: `--repeats 3` after a single-seed sweep extends the same experiment.
  const id = `exp-${createHash('sha256').update(JSON.stringify({ dataset: values.dataset, groups, config })).digest('hex').slice(0, 8)}`
  const experiment: Experiment = {
    id,
    name: transfers.map((t) => `${t.from}→${t.to}`).join(', ') || Object.keys(groups).join(', '),
    dataset: values.dataset,
    groups,
    bases: transfers.length === 0 ? Object.keys(groups) : [],
    transfers,
    config,
    ...(repeats > 1 ? { repeats } : {})
  }
  for (const warning of validateExperiment(experiment)) process.stderr.write(`warning: ${warning}\n`)

  const projectDir = resolve(values.project)
  const dataset = values.dataset
  const updateManifest = async (): Promise<void> => {
    const manifest = await openOrCreateProject(projectDir, basename(projectDir))
    mergeExperiment(manifest.experiments, experiment)
    if (!manifest.datasets.includes(dataset)) manifest.datasets.push(dataset)
    await writeProject(projectDir, manifest)
  }
  // A typo in a Slurm flag fails before the project changes.
  if (executor === 'slurm') validateSlurmOptions(slurmOptionsFrom(values))
  // Other submitters, the app and Slurm tasks may touch project.json at the same time, hence the lock.
  await mkdir(projectDir, { recursive: true })
  await withProjectLock(projectDir, updateManifest, { purpose: 'sweep: adding the experiment' })
  if (executor === 'local') return runAndReport(projectDir, values.json ?? false)
  return submitAndReport(projectDir, values, values.json ?? false)
}

/** `cli resume`: runs whatever the project has not finished (interrupted runs continue from their last epoch). */
export async function runResumeCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...SLURM_FLAG_OPTIONS, project: { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.project) throw new UsageError('--project is required')
  if (executorFrom(values) === 'slurm') return submitAndReport(resolve(values.project), values, values.json ?? false)
  return runAndReport(resolve(values.project), values.json ?? false)
}

/** `cli report`: one row per run and one per cell (mean, std, count over repeats) as JSON (`{ runs, cells }`) or CSV. */
export async function runReportCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { project: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'boolean' }, cells: { type: 'boolean' } } })
  if (!values.project) throw new UsageError('--project is required')
  const runs = await listRuns(resolve(values.project))
  const rows = reportRows(runs)
  const cells = reportCells(runs)
  if (values.cells && !values.csv) throw new UsageError('--cells goes with --csv (--json always has both runs and cells)')
  if (values.csv) process.stdout.write(values.cells ? reportCellsCsv(cells) : reportCsv(rows, cells))
  else if (values.json) process.stdout.write(`${JSON.stringify({ runs: rows, cells }, null, 2)}\n`)
  else throw new UsageError('say --json or --csv')
  return 0
}

/**
 * Runs the project's unfinished runs in a trainer process with sweep progress on stderr. Ctrl-C stops
 * the current run after its batch (it stays resumable) and runs nothing more; a crashed trainer marks
 * its run interrupted. Prints the report (JSON with --json) at the end.
 */
async function runAndReport(projectDir: string, json: boolean): Promise<number> {
  const host = new TrainerHost(forkTrainerProcess())
  let stopping = false
  let currentJob: string | undefined
  let currentRun: RunRecord | undefined
  const onInterrupt = (): void => {
    if (stopping) return void host.shutdown()
    stopping = true
    process.stderr.write('\nstopping after this batch; `resume` continues (Ctrl-C again to kill)\n')
    if (currentJob) host.cancel(currentJob)
  }
  process.on('SIGINT', onInterrupt)
  const progress = createSweepProgress()
  let exitCode = 0
  try {
    await sweepProject(
      projectDir,
      (request, onEvent) => {
        const job = host.train(request, onEvent)
        currentJob = job.jobId
        return job.outcome
      },
      (event) => {
        if (event.type === 'run-start') currentRun = event.run
        progress(event)
      },
      () => stopping
    )
  } catch (error) {
    exitCode = 1
    if (error instanceof TrainerCrashedError && currentRun) {
      const run = await readRun(projectDir, currentRun.id)
      await writeRun(projectDir, { ...run, status: 'interrupted', error: error.message })
    }
    process.stderr.write(`error: ${(error as Error).message}\n`)
  } finally {
    process.off('SIGINT', onInterrupt)
    await host.shutdown()
  }
  const runs = await listRuns(projectDir)
  const rows = reportRows(runs)
  if (json) process.stdout.write(`${JSON.stringify({ runs: rows, cells: reportCells(runs) }, null, 2)}\n`)
  else {
    const done = rows.filter((r) => r.status === 'done').length
    process.stdout.write(`${done}/${rows.length} runs done in ${projectDir}\n`)
  }
  if (stopping) return 130
  return exitCode !== 0 ? exitCode : rows.every((r) => r.status === 'done') ? 0 : 1
}
