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
 * Loads at most `poolPerClass` training and `testPerClass` test images of each class (a seeded choice;
 * readers skip decoding the rest). A source without a test split gives up `testPerClass` images of
 * each class from its training pool, never shared with the pool.
 * @param imageSize side image folders are resized to (the network's input); CIFAR stays 32 and is resized on the fly
 */
export async function loadStudyImages(
  datasetId: string,
  options: { classes?: string[]; poolPerClass: number; testPerClass: number; seed: number; imageSize: number; onProgress?: (p: ProgressInfo) => void }
): Promise<StudyImages> {
  const notes: string[] = []
  const holdOut = options.poolPerClass + options.testPerClass
  const dataset = await loadDataset(datasetId, {
    classes: options.classes,
    maxPerClass: { train: holdOut, test: Math.max(options.testPerClass, holdOut) },
    seed: options.seed,
    imageSize: options.imageSize,
    onProgress: options.onProgress
  })
  if (dataset.width !== dataset.height) throw new Error(`${datasetId}: images are ${dataset.width}×${dataset.height}; feature studies need square images`)
  const { train, test } = dataset.splits
  const all = (set: ImageSet): Int32Array => Int32Array.from(set.labels.keys())
  const numClasses = dataset.classNames.length
  let pool: StudyImages['pool']
  let testPart: StudyImages['test']
  if (train && test) {
    pool = { set: train, indices: capPerClass(train, all(train), numClasses, options.poolPerClass) }
    testPart = { set: test, indices: capPerClass(test, all(test), numClasses, options.testPerClass) }
  } else {
    const only = (train ?? test) as ImageSet | undefined
    if (!only) throw new Error(`${datasetId}: no images found in either split`)
    notes.push(`${datasetId} has one split only: ${options.testPerClass} images per class of it are held out as the test set`)
    const { held, rest } = holdOutPerClass(only, numClasses, options.testPerClass, options.seed)
    pool = { set: only, indices: capPerClass(only, rest, numClasses, options.poolPerClass) }
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

function holdOutPerClass(set: ImageSet, numClasses: number, perClass: number, seed: number): { held: Int32Array; rest: Int32Array } {
  const random = createRandom(deriveSeed(seed, 'features:test-holdout'))
  const held: number[] = []
  const rest: number[] = []
  for (const members of indicesByClass(set.labels, numClasses)) {
    shuffleInPlace(members, random)
    held.push(...members.slice(0, perClass))
    rest.push(...members.slice(perClass))
  }
  return { held: Int32Array.from(held).sort(), rest: Int32Array.from(rest).sort() }
}
