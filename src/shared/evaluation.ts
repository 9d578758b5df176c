/** Per-class results of a run's best weights on its validation images (and test images, when the dataset has them). */
export interface RunEvaluation {
  runId: string
  /** The epoch whose weights were evaluated. */
  epoch: number
  classNames: string[]
  splits: SplitEvaluation[]
}

export interface SplitEvaluation {
  split: 'val' | 'test'
  count: number
  accuracy: number
  /** confusion[true][predicted] = number of images. */
  confusion: number[][]
  /** Accuracy per true class (NaN-free: a class without images gets null). */
  perClassAccuracy: (number | null)[]
  /** Image sources per cell, for showing the misclassified images of a cell: cells[true][predicted]. */
  cellSources: string[][][]
}
