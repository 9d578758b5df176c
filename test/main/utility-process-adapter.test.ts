import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'

vi.mock('electron', () => ({ utilityProcess: { fork: vi.fn() } }))
const { adaptUtilityProcess } = await import('../../src/main/utility-process-adapter')
const { TrainerCrashedError, TrainerHost } = await import('../../src/engine/process/trainer-host')

/** The slice of Electron's UtilityProcess the adapter uses. */
class FakeUtilityProcess extends EventEmitter {
  pid = 4321
  posted: unknown[] = []
  kill = vi.fn(() => {
    this.emit('exit', 0)
    return true
  })
  postMessage(message: unknown): void {
    this.posted.push(message)
  }
}

describe('utilityProcess adapter (electron mocked)', () => {
  it('lets the engine’s TrainerHost drive a utility process and turns its death into a crash', async () => {
    const child = new FakeUtilityProcess()
    const host = new TrainerHost(adaptUtilityProcess(child as never), 1_000)
    expect(host.pid).toBe(4321)
    const events: unknown[] = []
    const job = host.train({ dataset: 'demo', config: {}, outDir: '/tmp/x' }, (e) => events.push(e))
    expect(child.posted[0]).toMatchObject({ type: 'train', jobId: job.jobId })
    child.emit('message', { type: 'event', jobId: job.jobId, event: { type: 'status', phase: 'training', message: 'go' } })
    expect(events).toEqual([{ type: 'status', phase: 'training', message: 'go' }])
    // A native crash: the utility process exits with a code (no signal).
    child.emit('exit', 134)
    await expect(job.outcome).rejects.toBeInstanceOf(TrainerCrashedError)
    await expect(job.outcome).rejects.toThrow(/exit code 134/)
    expect(host.exited).toBe(true)
    // Nothing is posted to a dead process; a late exit listener still hears about it.
    host.train({ dataset: 'demo', config: {}, outDir: '/tmp/y' }, () => undefined).outcome.catch(() => undefined)
    expect(child.posted).toHaveLength(1)
    const late = vi.fn()
    host.onExit(late)
    expect(late).toHaveBeenCalledWith(134, null)
  })
})
