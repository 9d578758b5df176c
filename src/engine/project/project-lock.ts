import { randomBytes } from 'node:crypto'
import { link, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { writeJsonAtomic } from './atomic-files'

/** The lock file guarding a project's shared files (`project.json`, Slurm submissions). */
export const PROJECT_LOCK_FILE = '.project.lock'

/** Who holds a lock: written into the lock file so a waiting process can judge whether it is stale. */
export interface LockOwner {
  /** Random per acquisition: tells this holder's lock from a later one at the same path. */
  token: string
  host: string
  pid: number
  acquiredAt: string
  purpose: string
}

/** How long to wait, when a lock counts as abandoned, and what it is for. */
export interface LockOptions {
  /** Give up waiting after this long (ms). Default 60 s. */
  timeoutMs?: number
  /**
   * A lock whose file has not been touched for this long (ms) is taken to be left by a dead holder on
   * another machine. Holders touch it every staleMs/4, so only a holder that stopped running gets there.
   * Default 120 s: generous, because the file's mtime comes from a shared filesystem's clock.
   */
  staleMs?: number
  /** Mean wait between attempts (ms), jittered so waiters do not move in lockstep. Default 50. */
  pollMs?: number
  /** Said in the lock file and in timeout errors, e.g. "slurm submission". */
  purpose?: string
}

/** Waiting for a lock took longer than allowed: names the holder. */
export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError'
}

/** A held lock was taken over by someone else (it was judged stale): the guarded update may have raced. */
export class LockLostError extends Error {
  override name = 'LockLostError'
}

/** A lock this process holds. */
export interface HeldLock {
  readonly path: string
  readonly owner: LockOwner
  /** Removes the lock file if it is still ours; false when it had been taken over. */
  release(): Promise<boolean>
}

/** How long a lock elsewhere may go without a heartbeat before it counts as abandoned (ms). */
const DEFAULT_STALE_MS = 120_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner
  } catch {
    return undefined
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Tries once to create the lock file. It is written to a temp file and hard-linked into place:
 * link() either creates the name with its full content or fails with EEXIST, atomically, also on NFS —
 * so a reader never sees a half-written owner and two creators never both succeed.
 */
async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.${owner.token}.tmp`)
  await writeFile(temp, `${JSON.stringify(owner)}\n`)
  try {
    await link(temp, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/**
 * Removes a stale lock if it is still the very file judged stale. Moving it aside first (rename is
 * atomic) and checking inode and token afterwards keeps two breakers from deleting a lock a third
 * process acquired in between; if that happened anyway, the live lock is put back.
 */
async function breakStale(path: string, judged: { ino: number; token: string | undefined }): Promise<void> {
  const aside = `${path}.stale-${randomBytes(4).toString('hex')}`
  try {
    await rename(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // someone else broke it
    throw error
  }
  const moved = await stat(aside)
  const token = (await readOwner(aside))?.token
  if (moved.ino !== judged.ino || token !== judged.token) await link(aside, path).catch(() => undefined)
  await unlink(aside).catch(() => undefined)
}

/**
 * Whether the existing lock at `path` was left by a holder that is gone. On this host the pid answers
 * for sure: a live holder is never judged stale, even when its heartbeat is late (a training process
 * whose event loop was busy for a while must not lose its run). Elsewhere only the heartbeat can.
 */
async function staleness(path: string, staleMs: number): Promise<{ stale: boolean; ino: number; owner: LockOwner | undefined } | undefined> {
  let info
  try {
    info = await stat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const owner = await readOwner(path)
  const here = owner !== undefined && owner.host === hostname() && Number.isInteger(owner.pid)
  const stale = here ? !isProcessAlive(owner.pid) : Date.now() - info.mtimeMs > staleMs
  return { stale, ino: info.ino, owner }
}

/** "sweep by pid 123 on node7 since 2025-…": who holds a lock, for messages. */
export function describeLockOwner(owner: LockOwner | undefined): string {
  return owner ? `${owner.purpose} by pid ${owner.pid} on ${owner.host} since ${owner.acquiredAt}` : 'an unknown holder'
}

/**
 * Who holds the lock at `path` right now, if a live holder does (a lock left by a dead one counts as
 * free: the next acquirer breaks it). Only a look: nothing is taken or broken.
 */
export async function lockHolder(path: string, options: Pick<LockOptions, 'staleMs'> = {}): Promise<LockOwner | undefined> {
  const existing = await staleness(path, options.staleMs ?? DEFAULT_STALE_MS)
  if (!existing || existing.stale) return undefined
  return existing.owner ?? { token: '', host: 'unknown', pid: 0, acquiredAt: 'unknown', purpose: 'an unreadable lock file' }
}

/** The outcome of one attempt: the lock, or who holds it. */
export type LockAttempt = { lock: HeldLock; holder?: undefined } | { lock?: undefined; holder: LockOwner | undefined }

/**
 * One attempt at the lock, without waiting: a lock left by a dead holder is broken and taken; a live
 * holder's lock is left alone and its owner returned. {@link acquireLock} is this attempt in a loop.
 */
export async function tryAcquireLock(path: string, options: LockOptions = {}): Promise<LockAttempt> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS
  const owner: LockOwner = { token: randomBytes(8).toString('hex'), host: hostname(), pid: process.pid, acquiredAt: '', purpose: options.purpose ?? 'project update' }
  for (;;) {
    owner.acquiredAt = new Date().toISOString()
    if (await tryCreate(path, owner)) return { lock: holdLock(path, owner, staleMs) }
    const existing = await staleness(path, staleMs)
    if (existing?.stale) {
      await breakStale(path, { ino: existing.ino, token: existing.owner?.token })
      continue
    }
    // Gone between the failed create and the look: try again at once.
    if (!existing) continue
    return { holder: existing.owner }
  }
}

/** Keeps a freshly created lock's mtime fresh until it is released. */
function holdLock(path: string, owner: LockOwner, staleMs: number): HeldLock {
  let lost = false
  const heartbeat = setInterval(() => {
    void readOwner(path).then(async (current) => {
      if (current?.token !== owner.token) lost = true
      else await utimes(path, new Date(), new Date()).catch(() => undefined)
    })
  }, Math.max(10, staleMs / 4))
  heartbeat.unref() // a forgotten lock must not keep the process alive
  return {
    path,
    owner,
    async release() {
      clearInterval(heartbeat)
      const current = await readOwner(path)
      if (lost || current?.token !== owner.token) return false
      await unlink(path).catch(() => undefined)
      return true
    }
  }
}

/**
 * Acquires an exclusive lock file, waiting (with jittered polling) while another live holder has it.
 * Works across processes and machines sharing a filesystem. The holder keeps the file's mtime fresh,
 * so a holder that died is recognised (dead pid on this host, or a silent file elsewhere) and its
 * lock broken. Always release in a finally, or use {@link withLock}.
 * @throws LockTimeoutError when `timeoutMs` passes first
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const pollMs = options.pollMs ?? 50
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const attempt = await tryAcquireLock(path, options)
    if (attempt.lock) return attempt.lock
    if (Date.now() > deadline) {
      throw new LockTimeoutError(`${path}: still locked after ${Math.round(timeoutMs / 1000)} s (${describeLockOwner(attempt.holder)}); if that process is gone, delete the file`)
    }
    await sleep(pollMs * (0.5 + Math.random()))
  }
}

/**
 * Runs `fn` holding the lock at `path`, releasing it afterwards whatever happens.
 * @throws LockLostError when the lock was broken while `fn` ran (it overran `staleMs` without heartbeats)
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  return holdWhile(await acquireLock(path, options), fn, `${path}: the lock was taken over while held; the update may have raced with another writer`)
}

/**
 * Runs `fn` with a lock already taken and releases it whatever happens.
 * @throws LockLostError (with `lostMessage`) when the lock was taken over while `fn` ran
 */
export async function holdWhile<T>(lock: HeldLock, fn: () => Promise<T>, lostMessage: string): Promise<T> {
  let result: T
  try {
    result = await fn()
  } catch (error) {
    await lock.release()
    throw error
  }
  if (!(await lock.release())) throw new LockLostError(lostMessage)
  return result
}

/** The lock file of a project folder. */
export function projectLockPath(projectDir: string): string {
  return join(projectDir, PROJECT_LOCK_FILE)
}

/** Runs `fn` holding the project's lock: for read-modify-write of anything shared in the project. */
export function withProjectLock<T>(projectDir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  return withLock(projectLockPath(projectDir), fn, options)
}

/**
 * Read-modify-write of a shared JSON file under its own lock (`<file>.lock`), written atomically:
 * simultaneous updaters in any number of processes each see the previous one's result.
 * `update` receives undefined when the file does not exist yet.
 */
export async function updateJsonUnderLock<T>(file: string, update: (current: T | undefined) => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  return withLock(`${file}.lock`, async () => {
    let current: T | undefined
    try {
      current = JSON.parse(await readFile(file, 'utf8')) as T
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    const next = await update(current)
    await writeJsonAtomic(file, next)
    return next
  }, options)
}
