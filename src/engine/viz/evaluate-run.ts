import type { RunEvaluation, SplitEvaluation } from '../../shared/evaluation'
import type { VizService } from './viz-service'

/**
 * Confusion matrix and per-class accuracy of a run's best weights on its own validation split (the same
 * seeded split it was trained with) and on the test split when there is one. The predictions come from
 * the viz service, computed once per checkpoint and cached there (the misclassified images of a cell
 * come from the same predictions).
 */
export async function evaluateRun(viz: VizService, projectDir: string, runId: string): Promise<RunEvaluation> {
  const splits: SplitEvaluation[] = []
  let classNames: string[] = []
  for (const split of ['val', 'test'] as const) {
    let matrix
    try {
      matrix = (await viz.confusion({ projectDir, runId, split })).data
    } catch (error) {
      // A dataset without a test split: evaluate what there is.
      if (split === 'test' && /has no test images/.test((error as Error).message)) break
      throw error
    }
    classNames = matrix.classNames
    splits.push({
      ...matrix,
      perClassAccuracy: matrix.counts.map((row, i) => {
        const total = row.reduce((a, b) => a + b, 0)
        return total === 0 ? null : row[i] / total
      })
    })
  }
  return { runId, classNames, splits }
}
