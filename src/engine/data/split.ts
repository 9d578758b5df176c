import { createRandom, deriveSeed, shuffleInPlace } from '../random'

/** Indices into an image set. */
export type IndexList = Int32Array

/** Groups image indices by their class label, in index order. */
export function indicesByClass(labels: Int32Array, numClasses: number): number[][] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => [])
  labels.forEach((label, i) => byClass[label].push(i))
  return byClass
}

/**
 * Seeded stratified split: each class contributes round(n_c × valFraction) images to validation, so
 * class balance is the same on both sides. Optionally caps training images per class first.
 */
export function stratifiedSplit(
  labels: Int32Array,
  numClasses: number,
  options: { valFraction: number; seed: number; trainPerClass?: number | null }
): { train: IndexList; val: IndexList } {
  const random = createRandom(deriveSeed(options.seed, 'split'))
  const train: number[] = []
  const val: number[] = []
  for (const members of indicesByClass(labels, numClasses)) {
    shuffleInPlace(members, random)
    const nVal = Math.round(members.length * options.valFraction)
    val.push(...members.slice(0, nVal))
    const rest = members.slice(nVal)
    train.push(...(options.trainPerClass ? rest.slice(0, options.trainPerClass) : rest))
  }
  // Sorted, so reading order does not depend on class order; the trainer shuffles per epoch anyway.
  return { train: Int32Array.from(train).sort(), val: Int32Array.from(val).sort() }
}

/**
 * How many images per class to read so that, after holding out valFraction for validation, trainPerClass
 * remain for training: trainPerClass / (1 − valFraction), rounded up.
 */
export function poolSizeForTrainCap(trainPerClass: number, valFraction: number): number {
  return Math.ceil(trainPerClass / (1 - valFraction) - 1e-9)
}
