import type { TrainConfig } from '../../shared/train-config'
import type { TrainData } from './train-data'
import type { ImageDataset, ProgressInfo } from './dataset'
import { loadDataset } from './load-dataset'
import { measureNormalization } from './normalize'
import { poolSizeForTrainCap, stratifiedSplit } from './split'

export interface PreparedData {
  dataset: ImageDataset
  data: TrainData
  /** Things the user should know (e.g. that the test split served as the training pool). */
  notes: string[]
}

/**
 * Loads a dataset for a training run and splits it: the chosen classes (labels 0…k−1 in the order
 * given), a seeded stratified train/val split of the train split, the per-class cap, and
 * normalization measured on the training images only (never on validation or test).
 */
export async function prepareTrainingData(
  datasetId: string,
  classes: string[] | undefined,
  config: TrainConfig,
  onProgress?: (progress: ProgressInfo) => void
): Promise<PreparedData> {
  const notes: string[] = []
  const pool = config.trainPerClass ? poolSizeForTrainCap(config.trainPerClass, config.valFraction) : undefined
  // The cap also bounds the test images read (a quick run stays quick) and the pool taken from a
  // test-only source, which then serves for training.
  const dataset = await loadDataset(datasetId, {
    classes,
    maxPerClass: pool ? { train: pool, test: pool } : undefined,
    seed: config.seed,
    imageSize: config.inputSize,
    onProgress
  })
  if (dataset.height !== config.inputSize || dataset.width !== config.inputSize) {
    throw new Error(`${datasetId}: images are ${dataset.width}×${dataset.height}, but the model expects ${config.inputSize}×${config.inputSize}`)
  }
  let poolSet = dataset.splits.train
  let test = dataset.splits.test
  if (!poolSet) {
    if (!test) throw new Error(`${datasetId}: no images found in either split`)
    notes.push(`${datasetId} has no training split; its test split is used for training and validation, and no test accuracy is reported.`)
    poolSet = test
    test = undefined
  }
  const { train, val } = stratifiedSplit(poolSet.labels, dataset.classNames.length, {
    valFraction: config.valFraction,
    seed: config.seed,
    trainPerClass: config.trainPerClass
  })
  const normalization = measureNormalization(poolSet, train, config.inputSize * config.inputSize)
  return {
    dataset,
    notes,
    data: {
      classNames: dataset.classNames,
      size: config.inputSize,
      normalization,
      train: { set: poolSet, indices: train },
      val: { set: poolSet, indices: val },
      test: test ? { set: test, indices: Int32Array.from(test.labels.keys()) } : undefined
    }
  }
}
