import { execFile } from 'node:child_process'

/** What one Slurm command printed. `missing` when the command is not installed here. */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
  missing?: boolean
}

/**
 * Runs one Slurm client command (`sbatch`, `squeue`, `scontrol`, `sacct`, `scancel`). Injected into
 * everything that talks to Slurm, so tests can replay captured output and a laptop without the
 * commands still gets the project's own view.
 */
export type SlurmRunner = (command: string, args: string[]) => Promise<CommandResult>

/** A Slurm command failed: carries what it said. */
export class SlurmCommandError extends Error {
  override name = 'SlurmCommandError'
  constructor(readonly command: string, readonly result: CommandResult) {
    super(result.missing ? `${command} is not installed here (is this a Slurm login node?)` : `${command} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`)
  }
}

/** Runs the real commands (with a timeout: a hung controller must not hang the CLI). */
export const runSlurmCommand: SlurmRunner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { code?: number | string }) | null
      if (err?.code === 'ENOENT') resolve({ code: 127, stdout: '', stderr: `${command}: not found`, missing: true })
      else resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) })
    })
  })

/** Runs a command that must succeed; returns its stdout. */
export async function runOrThrow(run: SlurmRunner, command: string, args: string[]): Promise<string> {
  const result = await run(command, args)
  if (result.code !== 0) throw new SlurmCommandError(command, result)
  return result.stdout
}
