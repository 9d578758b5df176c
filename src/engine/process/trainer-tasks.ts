import { evaluateRun } from '../train/evaluate-run'

/**
 * The short tasks the trainer process runs on request, by name. Each takes one plain input object
 * (already validated by the API) and returns plain data. Heavy ones must yield between chunks so a
 * training job beside them is held up by no more than about a batch.
 */
export const TRAINER_TASKS: Record<string, (input: never) => Promise<unknown>> = {
  evaluateRun: (input: { projectDir: string; runId: string }) => evaluateRun(input.projectDir, input.runId)
}
