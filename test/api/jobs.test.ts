import { describe, expect, it } from 'vitest'
import type { WorkbenchEvent } from '../../src/shared/contract'
import { JobRegistry } from '../../src/engine/api/jobs'

/** Any event will do for the registry; sweep:status is the simplest of the contract's. */
const status = (message: string): WorkbenchEvent => ({ type: 'sweep:status', status: { state: 'running', index: 0, total: 0, currentRunId: null, message } })
const messages = (events: WorkbenchEvent[]): string[] => events.map((e) => (e.type === 'sweep:status' ? e.status.message : e.type))

describe('JobRegistry', () => {
  it('answers with an id at once, sends start, progress and end events, and keeps the result', async () => {
    const events: WorkbenchEvent[] = []
    const jobs = new JobRegistry((e) => events.push(e), 0)
    const id = jobs.start<number, string>(
      'test',
      async ({ progress }) => {
        progress(1)
        progress(2)
        return 'ok'
      },
      { started: () => status('start'), progress: (p) => ({ event: status(`p${p}`), keep: true }), done: (r) => status(`done ${r}`) }
    )
    expect(id).toMatch(/^test-[0-9a-f]{12}$/)
    expect(jobs.get(id)?.state).toBe('running')
    await jobs.idle()
    expect(jobs.get(id)).toMatchObject({ state: 'done', result: 'ok' })
    expect(messages(events)).toEqual(['start', 'p1', 'p2', 'done ok'])
  })

  it('cancels by id through the signal; the end reads as cancelled', async () => {
    const events: WorkbenchEvent[] = []
    const jobs = new JobRegistry((e) => events.push(e))
    const id = jobs.start(
      'test',
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      { id: 'mine', failed: (error, cancelled) => status(`${cancelled ? 'cancelled' : 'failed'}: ${(error as Error).message}`) }
    )
    expect(id).toBe('mine')
    expect(jobs.cancel('nope')).toBe(false)
    expect(jobs.cancel(id)).toBe(true)
    await jobs.idle()
    expect(jobs.get(id)?.state).toBe('cancelled')
    expect(jobs.cancel(id)).toBe(false)
    expect(messages(events)).toEqual(['cancelled: stopped'])
  })

  it('records a failure (a synchronous throw too) and forgets old ended jobs of a kind', async () => {
    const jobs = new JobRegistry(() => undefined)
    const ids = [0, 1, 2].map(() =>
      jobs.start('test', () => {
        throw new Error('bad')
      })
    )
    const other = jobs.start('other', async () => 1)
    await jobs.idle()
    expect(jobs.get(ids[0])?.state).toBe('failed')
    jobs.prune('test', 1)
    expect(jobs.list('test').map((j) => j.id)).toEqual([ids[2]])
    expect(jobs.get(other)?.state).toBe('done')
  })
})
