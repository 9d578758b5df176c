import { join } from 'node:path'
import { acquireLock, describeLockOwner, holdWhile, lockHolder, LockTimeoutError, tryAcquireLock, type HeldLock, type LockOwner } from './project-lock'
import { runDir } from './project-store'

/** The lock file in a run's folder, held by whoever trains the run (a sweep's trainer, a Slurm task, the app). */
export const RUN_LOCK_FILE = '.run.lock'

const BUSY_PHRASE = 'is being trained by another process'

/** The run is being trained by another live process: this one must leave it alone. */
export class RunBusyError extends Error {
  override name = 'RunBusyError'
  constructor(readonly runId: string, readonly holder: LockOwner | undefined) {
    super(`run ${runId} ${BUSY_PHRASE} (${describeLockOwner(holder)})`)
  }
}

/** Whether a relayed error message (the API's error data keeps no name) is a RunBusyError's. */
export function isRunBusyMessage(message: string): boolean {
  return message.includes(BUSY_PHRASE)
}

/** Whether an error says the run is trained elsewhere; by name, since errors from the trainer process keep only name and message. */
export function isRunBusyError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'RunBusyError'
}

/** The lock file of one run. */
export function runLockPath(projectDir: string, runId: string): string {
  return join(runDir(projectDir, runId), RUN_LOCK_FILE)
}

/** Who trains the run right now, when a live process does; undefined when nobody (or only a dead holder) has it. */
export function runLockHolder(projectDir: string, runId: string): Promise<LockOwner | undefined> {
  return lockHolder(runLockPath(projectDir, runId))
}

/**
 * Takes the run's lock: the project lock's design (a `link()`ed lock file, a heartbeat, a dead holder's
 * lock broken), so one run is trained by one process at a time, on any machine sharing the folder.
 * Without `waitMs` it does not wait.
 * @throws RunBusyError when a live process holds it (after `waitMs`, if given)
 */
export async function acquireRunLock(projectDir: string, runId: string, options: { waitMs?: number; onWait?: (holder: LockOwner | undefined) => void } = {}): Promise<HeldLock> {
  const path = runLockPath(projectDir, runId)
  const purpose = `training run ${runId}`
  const attempt = await tryAcquireLock(path, { purpose })
  if (attempt.lock) return attempt.lock
  if (!options.waitMs) throw new RunBusyError(runId, attempt.holder)
  options.onWait?.(attempt.holder)
  try {
    return await acquireLock(path, { purpose, timeoutMs: options.waitMs, pollMs: 1000 })
  } catch (error) {
    if (error instanceof LockTimeoutError) throw new RunBusyError(runId, await lockHolder(path))
    throw error
  }
}

/**
 * Runs `fn` holding the run's lock (see {@link acquireRunLock}), releasing it however `fn` ends.
 * @throws RunBusyError when another live process trains the run
 * @throws LockLostError when the lock was taken over while `fn` ran (its heartbeats stopped for longer than allowed)
 */
export async function withRunLock<T>(projectDir: string, runId: string, fn: () => Promise<T>, options: Parameters<typeof acquireRunLock>[2] = {}): Promise<T> {
  const lock = await acquireRunLock(projectDir, runId, options)
  return holdWhile(lock, fn, `${lock.path}: the run's lock was taken over while it trained; another process may have trained it too`)
}
