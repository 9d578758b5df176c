import type { RunEvaluation } from '../../shared/evaluation'
import type { FeatureProgress, FeatureStudyRequest, FeatureStudyResult } from '../../shared/features'
import type { TrainEvent, TrainJobRequest, TrainOutcome } from '../../shared/train-request'
import type { VizInput, VizOutput } from '../../shared/viz-calls'

/**
 * The short engine tasks the trainer process runs beside training (trainer-tasks.ts), by name: what the
 * host sends, what comes back, and what the task reports while it works (`never`: nothing).
 */
export interface TrainerTasks {
  evaluateRun: { input: { projectDir: string; runId: string }; output: RunEvaluation; event: never }
  viz: { input: { projectDir: string; call: VizInput }; output: VizOutput; event: never }
  featureStudy: { input: { projectDir: string; request: FeatureStudyRequest }; output: FeatureStudyResult; event: FeatureProgress }
}

export type TrainerTaskName = keyof TrainerTasks
export type TaskInput<K extends TrainerTaskName> = TrainerTasks[K]['input']
export type TaskOutput<K extends TrainerTaskName> = TrainerTasks[K]['output']
export type TaskEvent<K extends TrainerTaskName> = TrainerTasks[K]['event']

/** A task request, one union member per task name (so a name always travels with its own input). */
export type TaskMessage = { [K in TrainerTaskName]: { type: 'task'; jobId: string; task: K; input: TaskInput<K> } }[TrainerTaskName]

/** Messages the host (Electron main, CLI, serve) sends to the trainer process. */
export type ToTrainer =
  | { type: 'train'; jobId: string; request: TrainJobRequest }
  | { type: 'cancel'; jobId: string }
  /** A short engine task (evaluation, pictures, features): runs beside a training job, between its batches. */
  | TaskMessage
  | { type: 'shutdown' }

/** Messages the trainer process sends back. */
export type FromTrainer =
  | { type: 'ready'; pid: number }
  /** A training job's event, or a task's progress. */
  | { type: 'event'; jobId: string; event: TrainEvent | TaskEvent<TrainerTaskName> }
  | { type: 'done'; jobId: string; outcome: TrainOutcome }
  | { type: 'result'; jobId: string; value: TaskOutput<TrainerTaskName> }
  | { type: 'failed'; jobId: string; error: { name: string; message: string } }

/**
 * The only thing trainer code knows about its parent: post a message, receive messages.
 * Electron's `parentPort` and Node's `process.send` both fit behind it.
 */
export interface MessagePort<In, Out> {
  postMessage(message: Out): void
  onMessage(listener: (message: In) => void): void
}
