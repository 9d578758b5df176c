import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { acquireLock, LockTimeoutError, withLock, withProjectLock } from '../../../src/engine/project/project-lock'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const WORKER = fileURLToPath(new URL('./helpers/lock-worker.ts', import.meta.url))

/** Starts `workers` processes that each bump the counter `iterations` times, all starting together. */
async function race(file: string, workers: number, iterations: number, mode: 'lock' | 'nolock'): Promise<{ count: number; entries: string[] }> {
  // Process start-up (tsx) takes ~1 s: start everyone's loop at the same moment after that.
  const startAt = Date.now() + 2500
  const exits = Array.from({ length: workers }, (_, w) =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, file, String(iterations), String(startAt), mode, `w${w}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
      child.on('error', reject)
      child.on('exit', resolve)
    })
  )
  expect(await Promise.all(exits)).toEqual(Array(workers).fill(0))
  return JSON.parse(await readFile(file, 'utf8'))
}

describe('project lock across processes', () => {
  it('four processes × 25 read-modify-writes under the lock: no update lost, none twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-lock-'))
    const result = await race(join(dir, 'counter.json'), 4, 25, 'lock')
    expect(result.count).toBe(100)
    expect(new Set(result.entries).size).toBe(100)
    expect(existsSync(join(dir, 'counter.json.lock'))).toBe(false)
  }, 60_000)

  it('the same race without the lock loses updates (the test above can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-nolock-'))
    const result = await race(join(dir, 'counter.json'), 4, 25, 'nolock')
    expect(result.count).toBeLessThan(100)
  }, 60_000)
})

describe('project lock in one process', () => {
  it('waits for a live holder and times out naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-lock-'))
    const held = await acquireLock(join(dir, 'x.lock'), { purpose: 'test holder' })
    const error = await acquireLock(join(dir, 'x.lock'), { timeoutMs: 200, pollMs: 10 }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(LockTimeoutError)
    expect((error as Error).message).toContain('test holder')
    expect(await held.release()).toBe(true)
    const again = await acquireLock(join(dir, 'x.lock'), { timeoutMs: 200 })
    await again.release()
  })

  it('breaks a lock left by a dead process on this host', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-lock-'))
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0'])
      child.on('exit', () => resolve(child.pid as number))
    })
    await writeFile(join(dir, '.project.lock'), JSON.stringify({ token: 'old', host: hostname(), pid: dead, acquiredAt: '', purpose: 'crashed' }))
    const value = await withProjectLock(dir, async () => 42, { timeoutMs: 2000 })
    expect(value).toBe(42)
  })

  it('breaks a lock from another host only once it has gone silent past staleMs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-lock-'))
    const path = join(dir, 'y.lock')
    await writeFile(path, JSON.stringify({ token: 'far', host: 'some-other-node', pid: 1, acquiredAt: '', purpose: 'remote' }))
    await expect(acquireLock(path, { timeoutMs: 300, staleMs: 60_000, pollMs: 10 })).rejects.toBeInstanceOf(LockTimeoutError)
    const past = new Date(Date.now() - 120_000)
    await utimes(path, past, past)
    const lock = await acquireLock(path, { timeoutMs: 1000, staleMs: 60_000 })
    expect(JSON.parse(await readFile(path, 'utf8')).token).toBe(lock.owner.token)
    await lock.release()
  })

  it('a holder keeps its lock fresh past staleMs, so waiters do not break it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-lock-'))
    const path = join(dir, 'z.lock')
    const order: string[] = []
    const first = withLock(path, async () => {
      await new Promise((r) => setTimeout(r, 600))
      order.push('first')
    }, { staleMs: 200 })
    await new Promise((r) => setTimeout(r, 50))
    const second = withLock(path, async () => void order.push('second'), { staleMs: 200, pollMs: 10 })
    await Promise.all([first, second])
    expect(order).toEqual(['first', 'second'])
  })
})
