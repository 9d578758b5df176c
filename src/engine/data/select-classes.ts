/**
 * The two choices every reader makes before it touches pixels: which classes to keep (and in which
 * label order), and which images of each kept class to keep (at most maxPerClass, a seeded choice).
 * One implementation, so `cifar10:`, `folder:` and `demo` subsets behave identically.
 */

import { createRandom, deriveSeed, shuffleInPlace } from '../random'
import { DatasetError, type ReadOptions, type SplitName } from './dataset'

/** Seed for the per-class choice when ReadOptions.seed is not given. */
export const DEFAULT_SELECTION_SEED = 1

/** Which of a source's classes are kept, and where each source label goes. */
export interface ClassSelection {
  /** Kept class names, in new label order. */
  classNames: string[]
  /** New label for each source label; -1 for a dropped class. */
  remap: Int32Array
}

/**
 * Resolves `options.classes` against the source's own class list.
 * Without a request every class is kept in source order; with one, labels follow the request order.
 * @param allNames the source's class names, in source label order
 * @param requested ReadOptions.classes
 * @param source what to name in errors (the dataset folder or names file)
 * @throws DatasetError for an unknown or repeated name (listing the valid ones) or an empty list
 */
export function selectClasses(allNames: readonly string[], requested: readonly string[] | undefined, source: string): ClassSelection {
  const remap = new Int32Array(allNames.length).fill(-1)
  if (requested === undefined) {
    remap.forEach((_, i) => (remap[i] = i))
    return { classNames: [...allNames], remap }
  }
  if (requested.length === 0) throw new DatasetError(source, 'options.classes is empty; name at least one class')
  requested.forEach((name, newLabel) => {
    const sourceLabel = allNames.indexOf(name)
    if (sourceLabel < 0) {
      throw new DatasetError(source, `unknown class "${name}"; valid classes: ${allNames.join(', ')}`)
    }
    if (remap[sourceLabel] >= 0) throw new DatasetError(source, `class "${name}" is listed twice in options.classes`)
    remap[sourceLabel] = newLabel
  })
  return { classNames: [...requested], remap }
}

/**
 * Checks and returns `options.maxPerClass[split]` (undefined = keep all).
 * @throws DatasetError naming the option when it is not a non-negative integer
 */
export function maxPerClassFor(options: ReadOptions, split: SplitName): number | undefined {
  const max = options.maxPerClass?.[split]
  if (max !== undefined && !(Number.isInteger(max) && max >= 0)) {
    throw new DatasetError(`options.maxPerClass.${split}`, `must be a non-negative integer, got ${max}`)
  }
  return max
}

/**
 * Chooses which candidates of one split to keep: all of a kept class, or a seeded random
 * `max` of them. Returns the kept candidate indices in ascending (source) order.
 *
 * Each class draws from its own seed derived from its *name* and the split, so the images chosen for
 * "cat" are the same whether or not "ship" is also selected, and train/test choices are independent.
 * @param labels new label per candidate (after `selectClasses` remapping; -1 = dropped class)
 * @param classNames kept class names (the labels' targets)
 */
export function choosePerClass(
  labels: ArrayLike<number>,
  classNames: readonly string[],
  split: SplitName,
  max: number | undefined,
  seed = DEFAULT_SELECTION_SEED
): Int32Array {
  const byClass: number[][] = classNames.map(() => [])
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) byClass[labels[i]].push(i)
  const kept: number[] = []
  byClass.forEach((indices, label) => {
    if (max !== undefined && indices.length > max) {
      shuffleInPlace(indices, createRandom(deriveSeed(seed, `select:${split}:${classNames[label]}`)))
      indices.length = max
    }
    for (const i of indices) kept.push(i) // not push(...): a class can hold more items than a call has arguments
  })
  return Int32Array.from(kept).sort()
}
