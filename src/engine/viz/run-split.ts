import type { RunRecord } from '../../shared/project'
import type { VizProgress } from '../../shared/viz'
import type { ImageSet } from '../data/dataset'
import { prepareTrainingData } from '../data/prepare-training-data'
import type { CheckpointMeta } from '../models/checkpoint'

/** A split of a run's data as the run saw it. */
export interface RunSplit {
  split: 'val' | 'test'
  set: ImageSet
  /** Indices of the split's images in `set`. */
  indices: Int32Array
  classNames: string[]
  size: number
}

/**
 * Rebuilds a run's validation (or test) split: the same dataset, classes in the model's label order,
 * per-class cap and seeded split as the trainer used, from the run's frozen config snapshot.
 * @throws Error when the run has no such split (a dataset without a test split)
 */
export async function loadRunSplit(
  record: RunRecord,
  meta: CheckpointMeta,
  split: 'val' | 'test',
  onProgress?: (progress: VizProgress) => void
): Promise<RunSplit> {
  const { data } = await prepareTrainingData(record.dataset, meta.classNames, record.config, (p) =>
    onProgress?.({ phase: 'loading-data', done: p.done, total: p.total })
  )
  const part = data[split]
  if (!part || part.indices.length === 0) throw new Error(`run ${record.id}: its data (${record.dataset}) has no ${split === 'val' ? 'validation' : 'test'} images`)
  return { split, set: part.set, indices: part.indices, classNames: data.classNames, size: data.size }
}
