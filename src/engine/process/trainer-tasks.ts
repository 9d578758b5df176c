import type { VizInput } from '../../shared/viz-calls'
import { evaluateRun } from '../train/evaluate-run'
import { runVizCall } from '../viz/run-viz-call'
import { VizService } from '../viz/viz-service'

/** One per trainer process: it caches recently used models and the last loaded split. */
const viz = new VizService()

/**
 * The short tasks the trainer process runs on request, by name. Each takes one plain input object
 * (already validated by the API) and returns plain data. Heavy ones yield between chunks, so a
 * training job beside them is held up by no more than about a batch.
 */
export const TRAINER_TASKS: Record<string, (input: never) => Promise<unknown>> = {
  evaluateRun: (input: { projectDir: string; runId: string }) => evaluateRun(viz, input.projectDir, input.runId),
  viz: (input: { projectDir: string; call: VizInput }) => runVizCall(viz, input.projectDir, input.call)
}
