import type { SweepEvent } from '../engine/train/sweep'
import { describeRun } from '../engine/project/run-record'
import { formatBar, formatDuration } from './format'
import { createTrainProgress } from './progress-bar'

/**
 * Renders a sweep on stderr: a line per run start/end with the whole sweep's bar, and the run's own
 * live bar (epoch, batch, loss, acc, img/s, ETA) in between.
 */
export function createSweepProgress(stream: NodeJS.WriteStream = process.stderr): (event: SweepEvent) => void {
  const runBar = createTrainProgress(stream)
  const started = Date.now()
  return (event) => {
    switch (event.type) {
      case 'run-start':
        stream.write(`\nsweep ${formatBar((event.index - 1) / event.total)} ${event.index - 1}/${event.total} done · ${formatDuration((Date.now() - started) / 1000)} elapsed\n`)
        stream.write(`▶ run ${event.index}/${event.total}: ${describeRun(event.run)} (${event.run.id})\n`)
        return
      case 'run-event':
        runBar(event.event)
        return
      case 'run-end': {
        const acc = event.run.bestValAcc === null ? 'n/a' : event.run.bestValAcc.toFixed(4)
        stream.write(`■ ${describeRun(event.run)}: ${event.run.status}, best val acc ${acc}\n`)
        return
      }
      case 'run-skipped':
        stream.write(`· skipped ${describeRun(event.run)}: ${event.reason}\n`)
        return
      case 'run-busy':
        stream.write(`· not now ${describeRun(event.run)} (${event.run.id}): ${event.reason}\n`)
        return
      case 'waiting':
        stream.write(`… ${event.message}\n`)
        return
    }
  }
}
