/**
 * Serializes changes to a library index: within a process by a promise chain, across processes
 * (the app and a CLI download at the same time) by a lock file created with O_EXCL. Without it two
 * registrations could each read the old index and one would silently undo the other.
 */
import { open, rm, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { LibraryError } from './library-error'

/** A lock older than this is taken to be left by a process that died holding it (ms). */
const STALE_MS = 30_000
const RETRY_MS = 50
/** Index updates take milliseconds; waiting longer than this means something is wrong (ms). */
const WAIT_MS = 15_000

const chains = new Map<string, Promise<unknown>>()

/** Runs `fn` holding the lock `lockPath`; the lock is released however `fn` ends. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const previous = chains.get(lockPath) ?? Promise.resolve()
  const run = previous.catch(() => undefined).then(async () => {
    await acquire(lockPath)
    try {
      return await fn()
    } finally {
      await rm(lockPath, { force: true })
    }
  })
  chains.set(lockPath, run)
  try {
    return await run
  } finally {
    if (chains.get(lockPath) === run) chains.delete(lockPath)
  }
}

async function acquire(lockPath: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx')
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const info = await stat(lockPath).catch(() => undefined)
    if (info && Date.now() - info.mtimeMs > STALE_MS) {
      await rm(lockPath, { force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new LibraryError('conflict', lockPath, `the library is locked by another process for more than ${WAIT_MS / 1000} s; if none is running, delete this file`)
    }
    await sleep(RETRY_MS)
  }
}
