import { describe, expect, it } from 'vitest'
import { createProgressThrottle, type ThrottleClock } from '../../src/engine/api/progress-throttle'

/** A hand-driven clock: time moves only when the test says so. */
function manualClock(): ThrottleClock & { advance(ms: number): void } {
  let now = 0
  let timers: { at: number; callback: () => void; id: number }[] = []
  let nextId = 1
  return {
    now: () => now,
    setTimeout: (callback, ms) => {
      const id = nextId++
      timers.push({ at: now + ms, callback, id })
      return id
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id)
    },
    advance(ms) {
      const end = now + ms
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
        if (!due) break
        now = due.at
        timers = timers.filter((t) => t !== due)
        due.callback()
      }
      now = end
    }
  }
}

describe('progress throttle', () => {
  it('sends at most one droppable event per interval, the latest one, on the trailing edge', () => {
    const clock = manualClock()
    const sent: number[] = []
    const throttle = createProgressThrottle<number>((e) => sent.push(e), 100, clock)
    // 1000 batches in one second (1 ms apart): a fast CPU run.
    for (let i = 1; i <= 1000; i++) {
      throttle.progress(i)
      clock.advance(1)
    }
    clock.advance(200)
    expect(sent.length).toBeGreaterThanOrEqual(9)
    expect(sent.length).toBeLessThanOrEqual(11)
    expect(sent[0]).toBe(1)
    // The last value is not lost even though no event came after it.
    expect(sent.at(-1)).toBe(1000)
    expect([...sent].sort((a, b) => a - b)).toEqual(sent)
  })

  it('never drops an `always` event and sends pending progress before it', () => {
    const clock = manualClock()
    const sent: string[] = []
    const throttle = createProgressThrottle<string>((e) => sent.push(e), 100, clock)
    throttle.progress('batch 1')
    throttle.progress('batch 2')
    throttle.progress('batch 3')
    throttle.always('last batch of epoch 1')
    throttle.always('epoch 1')
    throttle.always('status')
    expect(sent).toEqual(['batch 1', 'batch 3', 'last batch of epoch 1', 'epoch 1', 'status'])
    // Nothing left pending: no stale progress arrives after the status.
    clock.advance(1000)
    expect(sent).toHaveLength(5)
  })

  it('flush sends what is pending at once', () => {
    const clock = manualClock()
    const sent: number[] = []
    const throttle = createProgressThrottle<number>((e) => sent.push(e), 100, clock)
    throttle.progress(1)
    throttle.progress(2)
    throttle.flush()
    expect(sent).toEqual([1, 2])
  })
})
