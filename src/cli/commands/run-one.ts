import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { TrainEvent } from '../../shared/train-request'
import { describeRun } from '../../engine/project/run-record'
import { runIdForTask, runSlurmTask } from '../../engine/slurm/run-task'
import { numberFlag, UsageError } from '../args'
import { applyBackendFlag, BACKEND_FLAG_OPTIONS, BACKEND_FLAG_USAGE } from '../backend-flag'

/** Usage of `cli run-one`. */
export const RUN_ONE_USAGE = `usage: cli run-one --project DIR (--run ID | --run-list FILE [--index N]) ${BACKEND_FLAG_USAGE} [--json]
  runs or resumes one planned run; with --run-list the run on line N+1 (N defaults to SLURM_ARRAY_TASK_ID)`

/** One log line per phase and epoch: array tasks write to files, where a live bar would be noise. */
function logEvent(event: TrainEvent): void {
  const stamp = new Date().toISOString().slice(11, 19)
  if (event.type === 'status') process.stderr.write(`[${stamp}] ${event.message}\n`)
  else if (event.type === 'epoch') {
    const m = event.metrics
    const val = m.valAcc === null ? '' : ` · val acc ${m.valAcc.toFixed(4)}`
    process.stderr.write(`[${stamp}] epoch ${m.epoch}/${m.epochs} · loss ${m.trainLoss.toFixed(4)} · acc ${m.trainAcc.toFixed(4)}${val} · ${m.imagesPerSecond.toFixed(0)} img/s\n`)
  }
}

/**
 * `cli run-one`: the body of a Slurm array task. Trains (or resumes) one planned run in-process,
 * writing only its run folder. SIGTERM (time limit, preemption, scancel) stops it after the current
 * batch with the run saved as interrupted and exit code 143; a second SIGTERM exits at once.
 */
export async function runRunOneCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...BACKEND_FLAG_OPTIONS, project: { type: 'string' }, run: { type: 'string' }, 'run-list': { type: 'string' }, index: { type: 'string' }, json: { type: 'boolean' } }
  })
  if (!values.project) throw new UsageError('--project is required')
  applyBackendFlag(values.backend)
  if (!values.run === !values['run-list']) throw new UsageError('give --run ID or --run-list FILE')
  const projectDir = resolve(values.project)
  let runId = values.run
  if (values['run-list']) {
    const index = numberFlag('index', values.index ?? process.env.SLURM_ARRAY_TASK_ID)
    if (index === undefined) throw new UsageError('--run-list needs --index or SLURM_ARRAY_TASK_ID (set by Slurm in an array task)')
    runId = await runIdForTask(resolve(values['run-list']), index)
  }
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(143)
    process.stderr.write(`\n${signal}: stopping after this batch; the run stays resumable\n`)
    controller.abort(signal)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    process.stderr.write(`run ${runId}\n`)
    const { record, exitCode } = await runSlurmTask(projectDir, runId as string, logEvent, controller.signal)
    const acc = record.bestValAcc === null ? 'n/a' : record.bestValAcc.toFixed(4)
    if (values.json) process.stdout.write(`${JSON.stringify({ id: record.id, status: record.status, bestValAcc: record.bestValAcc, epochs: record.epochs }, null, 2)}\n`)
    else process.stdout.write(`${record.status}: ${describeRun(record)} (${record.id}), best val acc ${acc}\n`)
    return exitCode
  } finally {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}
