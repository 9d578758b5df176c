/**
 * The headless entry: the same engine as the app, from a terminal (`npm run cli -- <command> …`).
 */
import { UsageError } from './args'
import { DATASET_USAGE, runDatasetCommand } from './commands/dataset'
import { runDatasetsCommand } from './commands/datasets'
import { runDoctorCommand } from './commands/doctor'
import { FEATURES_USAGE, runFeaturesCommand } from './commands/features'
import { GPU_CHECK_USAGE, runGpuCheckCommand } from './commands/gpu-check'
import { RUN_ONE_USAGE, runRunOneCommand } from './commands/run-one'
import { runServeCommand, SERVE_USAGE } from './commands/serve'
import { CANCEL_USAGE, runCancelCommand, runStatusCommand, STATUS_USAGE } from './commands/slurm'
import { REPORT_USAGE, RESUME_USAGE, runReportCommand, runResumeCommand, runSweepCommand, SWEEP_USAGE } from './commands/sweep'
import { runTrainCommand, TRAIN_USAGE } from './commands/train'
import { runVizCommand, VIZ_USAGE } from './commands/viz'

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  train: { run: runTrainCommand, usage: TRAIN_USAGE },
  sweep: { run: runSweepCommand, usage: SWEEP_USAGE },
  resume: { run: runResumeCommand, usage: RESUME_USAGE },
  report: { run: runReportCommand, usage: REPORT_USAGE },
  status: { run: runStatusCommand, usage: STATUS_USAGE },
  cancel: { run: runCancelCommand, usage: CANCEL_USAGE },
  'run-one': { run: runRunOneCommand, usage: RUN_ONE_USAGE },
  datasets: { run: runDatasetsCommand, usage: 'usage: cli datasets [--dir DIR …] [--data-dir DIR] [--json]' },
  dataset: { run: runDatasetCommand, usage: DATASET_USAGE },
  doctor: { run: runDoctorCommand, usage: 'usage: cli doctor [--json]' },
  features: { run: runFeaturesCommand, usage: FEATURES_USAGE },
  'gpu-check': { run: runGpuCheckCommand, usage: GPU_CHECK_USAGE },
  serve: { run: runServeCommand, usage: SERVE_USAGE },
  viz: { run: runVizCommand, usage: VIZ_USAGE }
}

function printHelp(): void {
  process.stderr.write(`Transfer Workbench CLI\n\ncommands:\n${Object.values(COMMANDS).map((c) => `  ${c.usage.replace(/^usage: cli /, '')}`).join('\n')}\n`)
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    printHelp()
    return name ? 0 : 2
  }
  const command = COMMANDS[name]
  if (!command) {
    process.stderr.write(`unknown command '${name}'\n`)
    printHelp()
    return 2
  }
  try {
    return await command.run(rest)
  } catch (error) {
    const e = error as Error & { code?: string }
    const usage = error instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')
    process.stderr.write(`error: ${e.message}\n${usage ? `${command.usage}\n` : ''}`)
    return usage ? 2 : 1
  }
}

const code = await main(process.argv.slice(2))
process.exitCode = code
// The work is done: leave even if a library keeps a handle open (wasm worker threads, sharp's pool),
// once pending output has had a moment to flush. An array task that hung here would hold its Slurm job.
setTimeout(() => process.exit(code), 500).unref()
