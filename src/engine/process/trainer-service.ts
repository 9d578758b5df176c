import type { TrainOutcome } from '../../shared/train-request'
import { runTraining } from '../train/run-training'
import type { FromTrainer, MessagePort, ToTrainer } from './trainer-protocol'

/**
 * Serves training requests arriving on a port, one job at a time. A second request while one runs
 * gets a clear error rather than a queue the user cannot see.
 */
export function serveTrainer(port: MessagePort<ToTrainer, FromTrainer>, onShutdown: () => void): void {
  let current: { jobId: string; abort: AbortController } | undefined
  port.onMessage((message) => {
    switch (message.type) {
      case 'train': {
        if (current) {
          port.postMessage({
            type: 'failed',
            jobId: message.jobId,
            error: { name: 'TrainerBusyError', message: `the trainer is busy with job ${current.jobId}; cancel it or wait for it to finish` }
          })
          return
        }
        const job = { jobId: message.jobId, abort: new AbortController() }
        current = job
        runTraining(message.request, (event) => port.postMessage({ type: 'event', jobId: job.jobId, event }), job.abort.signal)
          .then((outcome: TrainOutcome) => port.postMessage({ type: 'done', jobId: job.jobId, outcome }))
          .catch((error: unknown) => {
            const e = error instanceof Error ? error : new Error(String(error))
            port.postMessage({ type: 'failed', jobId: job.jobId, error: { name: e.name, message: e.message } })
          })
          .finally(() => {
            if (current === job) current = undefined
          })
        return
      }
      case 'cancel':
        if (current?.jobId === message.jobId) current.abort.abort()
        return
      case 'shutdown':
        current?.abort.abort()
        onShutdown()
        return
    }
  })
  port.postMessage({ type: 'ready', pid: process.pid })
}
