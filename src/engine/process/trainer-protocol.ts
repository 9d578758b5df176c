import type { TrainEvent, TrainJobRequest, TrainOutcome } from '../../shared/train-request'

/** Messages the host (Electron main, CLI, serve) sends to the trainer process. */
export type ToTrainer =
  | { type: 'train'; jobId: string; request: TrainJobRequest }
  | { type: 'cancel'; jobId: string }
  /** A short engine task (evaluation, pictures, features): runs beside a training job, between its batches. */
  | { type: 'task'; jobId: string; task: string; input: unknown }
  | { type: 'shutdown' }

/** Messages the trainer process sends back. */
export type FromTrainer =
  | { type: 'ready'; pid: number }
  | { type: 'event'; jobId: string; event: TrainEvent }
  | { type: 'done'; jobId: string; outcome: TrainOutcome }
  | { type: 'result'; jobId: string; value: unknown }
  | { type: 'failed'; jobId: string; error: { name: string; message: string } }

/**
 * The only thing trainer code knows about its parent: post a message, receive messages.
 * Electron's `parentPort` and Node's `process.send` both fit behind it.
 */
export interface MessagePort<In, Out> {
  postMessage(message: Out): void
  onMessage(listener: (message: In) => void): void
}
