import type { ImageSet, ProgressInfo } from '../data/dataset'
import { loadDataset } from '../data/load-dataset'
import { indicesByClass } from '../data/split'
import { createRandom, deriveSeed, shuffleInPlace } from '../random'

/** The images of a feature study: a training pool to draw shots from and a fixed test set. */
export interface StudyImages {
  classNames: string[]
  imageSize: number
  pool: { set: ImageSet; indices: Int32Array }
  test: { set: ImageSet; indices: Int32Array }
  notes: string[]
}

/**
 * Loads at most `poolPerClass` training images of each class (a seeded choice; readers skip decoding
 * the rest) and `testPerClass` test images of each class, or every test image when it is null. A
 * source without a test split gives up `testPerClass` images of each class from its training pool
 * (with null: every image not in the pool), never shared with the pool.
 * @param imageSize side image folders are resized to (the network's input); CIFAR stays 32 and is resized on the fly
 */
export async function loadStudyImages(
  datasetId: string,
  options: { classes?: string[]; poolPerClass: number; testPerClass: number | null; seed: number; imageSize: number; onProgress?: (p: ProgressInfo) => void }
): Promise<StudyImages> {
  const notes: string[] = []
  const { poolPerClass, testPerClass } = options
  const read = (maxTrain: number | undefined) =>
    loadDataset(datasetId, {
      classes: options.classes,
      // A cap of undefined reads every image of that split.
      maxPerClass: { train: maxTrain, test: testPerClass === null ? undefined : Math.max(testPerClass, poolPerClass + testPerClass) },
      seed: options.seed,
      imageSize: options.imageSize,
      onProgress: options.onProgress
    })
  // With a test split the pool is all that the training split must give; without one, the held-out
  // images come from it too (all of it when every image is asked for), so it is read again, larger.
  let dataset = await read(testPerClass === null ? poolPerClass : poolPerClass + testPerClass)
  if (!(dataset.splits.train && dataset.splits.test) && testPerClass === null) dataset = await read(undefined)
  if (dataset.width !== dataset.height) throw new Error(`${datasetId}: images are ${dataset.width}×${dataset.height}; feature studies need square images`)
  const { train, test } = dataset.splits
  const all = (set: ImageSet): Int32Array => Int32Array.from(set.labels.keys())
  const numClasses = dataset.classNames.length
  let pool: StudyImages['pool']
  let testPart: StudyImages['test']
  if (train && test) {
    pool = { set: train, indices: capPerClass(train, all(train), numClasses, poolPerClass) }
    testPart = { set: test, indices: testPerClass === null ? all(test) : capPerClass(test, all(test), numClasses, testPerClass) }
  } else {
    const only = (train ?? test) as ImageSet | undefined
    if (!only) throw new Error(`${datasetId}: no images found in either split`)
    const { held, rest } = holdOutPerClass(only, numClasses, testPerClass, poolPerClass, options.seed)
    notes.push(`${datasetId} has one split only: ${testPerClass === null ? `every image not in the pool (${held.length})` : `${testPerClass} per class`} of it held out as the test set`)
    pool = { set: only, indices: capPerClass(only, rest, numClasses, poolPerClass) }
    testPart = { set: only, indices: held }
  }
  return { classNames: dataset.classNames, imageSize: dataset.height, pool, test: testPart, notes }
}

/** The first `max` images of each class among `indices` (already a seeded choice by the reader), in index order. */
function capPerClass(set: ImageSet, indices: Int32Array, numClasses: number, max: number): Int32Array {
  const taken = new Array<number>(numClasses).fill(0)
  const out: number[] = []
  for (const index of indices) {
    const label = set.labels[index]
    if (taken[label] < max) {
      taken[label]++
      out.push(index)
    }
  }
  return Int32Array.from(out)
}

/** Per class, `perClass` images held out at random (null: all but `poolPerClass` of them); the rest stays for the pool. */
function holdOutPerClass(set: ImageSet, numClasses: number, perClass: number | null, poolPerClass: number, seed: number): { held: Int32Array; rest: Int32Array } {
  const random = createRandom(deriveSeed(seed, 'features:test-holdout'))
  const held: number[] = []
  const rest: number[] = []
  for (const members of indicesByClass(set.labels, numClasses)) {
    shuffleInPlace(members, random)
    const count = perClass ?? Math.max(0, members.length - poolPerClass)
    held.push(...members.slice(0, count))
    rest.push(...members.slice(count))
  }
  return { held: Int32Array.from(held).sort(), rest: Int32Array.from(rest).sort() }
}
