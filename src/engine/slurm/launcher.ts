/** How an array task starts the workbench CLI on a compute node. */
export interface CliLauncher {
  /** Folder the command is started from: bare specifiers such as `--import tsx` resolve from here. */
  cwd: string
  /** The command words before the CLI's own arguments, e.g. `[node, --import, tsx, …/src/cli/index.ts]`. */
  argv: string[]
}

/**
 * The command that started this CLI process, to be run again by each array task: the same Node binary,
 * loader flags and entry script. Right when the workbench is installed on the cluster's shared
 * filesystem (paths are absolute); otherwise pass an explicit command (`--cli`).
 */
export function currentCliLauncher(): CliLauncher {
  const script = process.argv[1]
  if (!script) throw new Error('cannot tell how this CLI was started; pass the command for array tasks with --cli')
  return { cwd: process.cwd(), argv: [process.execPath, ...process.execArgv, script] }
}

/** Splits a `--cli` command line into words (whitespace-separated; no shell quoting), to be run from `cwd`. */
export function parseCliLauncher(command: string, cwd = process.cwd()): CliLauncher {
  const argv = command.trim().split(/\s+/).filter(Boolean)
  if (argv.length === 0) throw new Error('--cli: the command is empty')
  return { cwd, argv }
}
