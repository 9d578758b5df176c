import { runFeatureStudy } from '../features/study'
import { evaluateRun } from '../viz/evaluate-run'
import { runVizCall } from '../viz/run-viz-call'
import { VizService } from '../viz/viz-service'
import type { TaskEvent, TaskInput, TaskOutput, TrainerTaskName } from './trainer-protocol'

/** One per trainer process: it caches recently used models and the last loaded split. */
const viz = new VizService()

/** What a task gets besides its input: a way to report progress, and the cancel signal. */
export interface TaskContext<Event = unknown> {
  emit(event: Event): void
  signal: AbortSignal
}

/** A task's implementation, typed by its entry in `TrainerTasks`. */
export type TaskHandler<K extends TrainerTaskName> = (input: TaskInput<K>, context: TaskContext<TaskEvent<K>>) => Promise<TaskOutput<K>>

/**
 * The tasks the trainer process runs on request, by name. Each takes one plain input object (already
 * validated by the API) and returns plain data. They yield between chunks, so a training job beside
 * them is held up by no more than about a batch.
 */
export const TRAINER_TASKS: { [K in TrainerTaskName]: TaskHandler<K> } = {
  evaluateRun: (input) => evaluateRun(viz, input.projectDir, input.runId),
  viz: (input) => runVizCall(viz, input.projectDir, input.call),
  featureStudy: (input, context) => runFeatureStudy({ ...input.request, projectDir: input.projectDir, signal: context.signal, onProgress: context.emit })
}

/** Whether the trainer has a task of this name (a message may come from a host of another version). */
export function isTrainerTask(name: string): name is TrainerTaskName {
  return Object.hasOwn(TRAINER_TASKS, name)
}

/** Runs a task with its own handler: the name types its input, its output and its events. */
export function runTrainerTask<K extends TrainerTaskName>(task: K, input: TaskInput<K>, context: TaskContext<TaskEvent<K>>): Promise<TaskOutput<K>> {
  const handler: TaskHandler<K> = TRAINER_TASKS[task]
  return handler(input, context)
}
