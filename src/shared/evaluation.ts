import type { ConfusionMatrix } from './viz'

/** Per-class results of a run's best weights on its validation images (and test images, when the dataset has them). */
export interface RunEvaluation {
  runId: string
  classNames: string[]
  splits: SplitEvaluation[]
}

export interface SplitEvaluation extends ConfusionMatrix {
  /** Accuracy per true class; null for a class without images. */
  perClassAccuracy: (number | null)[]
}
