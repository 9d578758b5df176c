import type { ImageSet } from './dataset'
import type { Normalization } from './normalize'

/** The images a run trains and validates on (indices into the image sets). */
export interface TrainData {
  classNames: string[]
  /** Square image side in pixels. */
  size: number
  normalization: Normalization
  train: { set: ImageSet; indices: Int32Array }
  val?: { set: ImageSet; indices: Int32Array }
  test?: { set: ImageSet; indices: Int32Array }
}
