import type { FeatureStudyRequest } from '../../shared/features'
import type { VizInput } from '../../shared/viz-calls'
import { runFeatureStudy } from '../features/study'
import { evaluateRun } from '../viz/evaluate-run'
import { runVizCall } from '../viz/run-viz-call'
import { VizService } from '../viz/viz-service'

/** One per trainer process: it caches recently used models and the last loaded split. */
const viz = new VizService()

/** What a task gets besides its input: a way to report progress, and the cancel signal. */
export interface TaskContext {
  emit(event: unknown): void
  signal: AbortSignal
}

/**
 * The tasks the trainer process runs on request, by name. Each takes one plain input object (already
 * validated by the API) and returns plain data. They yield between chunks, so a training job beside
 * them is held up by no more than about a batch.
 */
export const TRAINER_TASKS: Record<string, (input: never, context: TaskContext) => Promise<unknown>> = {
  evaluateRun: (input: { projectDir: string; runId: string }) => evaluateRun(viz, input.projectDir, input.runId),
  viz: (input: { projectDir: string; call: VizInput }) => runVizCall(viz, input.projectDir, input.call),
  featureStudy: (input: { projectDir: string; request: FeatureStudyRequest }, context) =>
    runFeatureStudy({ ...input.request, projectDir: input.projectDir, signal: context.signal, onProgress: context.emit })
}
