import { hostname } from 'node:os'
import { isPlannedRunRequest, type TrainEvent, type TrainOutcome } from '../../shared/train-request'
import { runPlanned } from '../train/run-planned'
import { trainStandaloneRun } from '../train/train-standalone-run'
import type { FromTrainer, MessagePort, TaskEvent, ToTrainer, TrainerTaskName } from './trainer-protocol'
import { isTrainerTask, runTrainerTask, TRAINER_TASKS } from './trainer-tasks'

/** How a run that this process trains records where it ran (replacing a previous Slurm attempt's). */
const LOCAL_EXECUTOR = { executor: 'local', node: hostname(), slurmJobId: undefined }

/**
 * Serves training requests arriving on a port, one job at a time. A second request while one runs
 * gets a clear error rather than a queue the user cannot see.
 */
export function serveTrainer(port: MessagePort<ToTrainer, FromTrainer>, onShutdown: () => void): void {
  let current: { jobId: string; abort: AbortController } | undefined
  const tasks = new Map<string, AbortController>()
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
        const request = message.request
        const emit = (event: TrainEvent): void => port.postMessage({ type: 'event', jobId: job.jobId, event })
        const run = isPlannedRunRequest(request)
          ? runPlanned(request.projectDir, request.runId, emit, job.abort.signal, { annotate: LOCAL_EXECUTOR })
          : trainStandaloneRun(request, emit, job.abort.signal)
        run
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
      case 'task': {
        // Not subject to the one-job rule: a task interleaves with training between batches.
        const { jobId } = message
        const fail = (e: Error): void => port.postMessage({ type: 'failed', jobId, error: { name: e.name, message: e.message } })
        if (!isTrainerTask(message.task)) return fail(new Error(`the trainer has no task '${String(message.task)}'; known tasks: ${Object.keys(TRAINER_TASKS).join(', ')}`))
        const abort = new AbortController()
        tasks.set(jobId, abort)
        const emit = (event: TaskEvent<TrainerTaskName>): void => port.postMessage({ type: 'event', jobId, event })
        runTrainerTask(message.task, message.input, { emit, signal: abort.signal })
          .then(
            (value) => port.postMessage({ type: 'result', jobId, value }),
            (error: unknown) => fail(error instanceof Error ? error : new Error(String(error)))
          )
          .finally(() => tasks.delete(jobId))
        return
      }
      case 'cancel':
        if (current?.jobId === message.jobId) current.abort.abort()
        tasks.get(message.jobId)?.abort()
        return
      case 'shutdown':
        current?.abort.abort()
        onShutdown()
        return
    }
  })
  port.postMessage({ type: 'ready', pid: process.pid })
}
