import type { TrainEvent } from '../shared/train-request'
import { formatBar, formatDuration } from './format'

/**
 * Renders training events on stderr: a live bar (epoch, batch, loss, acc, img/s, ETA) redrawn in
 * place on a terminal, and one line per epoch (plus occasional batch lines) when stderr is a file.
 */
export function createTrainProgress(stream: NodeJS.WriteStream = process.stderr): (event: TrainEvent) => void {
  const live = stream.isTTY === true
  let lastLine = 0
  const write = (text: string, final: boolean): void => {
    if (live) stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`)
    else if (final || Date.now() - lastLine > 5000) {
      stream.write(`${text}\n`)
      lastLine = Date.now()
    }
  }
  return (event) => {
    switch (event.type) {
      case 'status':
        write(`· ${event.message}`, true)
        return
      case 'data-progress':
        write(`  ${event.phase} ${formatBar(event.done / Math.max(1, event.total))} ${event.done}/${event.total}`, event.done === event.total)
        return
      case 'batch': {
        const m = event.metrics
        write(
          `epoch ${m.epoch} ${formatBar(m.batch / m.batchesPerEpoch)} ${m.batch}/${m.batchesPerEpoch}` +
            `  loss ${m.loss.toFixed(3)}  acc ${m.acc.toFixed(3)}  ${m.imagesPerSecond.toFixed(0)} img/s  ETA ${formatDuration(m.etaSeconds)}`,
          false
        )
        return
      }
      case 'epoch': {
        const m = event.metrics
        const val = m.valAcc === null ? '' : `  val loss ${m.valLoss?.toFixed(3)}  val acc ${m.valAcc.toFixed(3)}${m.best ? ' *' : ''}`
        write(
          `epoch ${m.epoch}/${m.epochs}  loss ${m.trainLoss.toFixed(3)}  acc ${m.trainAcc.toFixed(3)}${val}` +
            `  lr ${m.lr.toPrecision(3)}  ${m.imagesPerSecond.toFixed(0)} img/s  ${m.seconds.toFixed(1)} s`,
          true
        )
        return
      }
    }
  }
}
