import * as tf from '@tensorflow/tfjs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunEvaluation, SplitEvaluation } from '../../shared/evaluation'
import { selectBackend } from '../backend/select-backend'
import { makeBatch } from '../data/batches'
import type { ImageSet } from '../data/dataset'
import { prepareTrainingData } from '../data/prepare-training-data'
import { forward } from '../models/forward'
import { writeJsonAtomic } from '../project/atomic-files'
import { readRun, runDir } from '../project/project-store'
import { createRandom } from '../random'
import { loadCheckpoint } from './checkpoint'

const EVALUATION_FILE = 'evaluation.json'
/** Images per forward pass; small enough that a training job beside it waits no longer than a batch. */
const CHUNK = 128

/**
 * Confusion matrix and per-class accuracy of a run's best weights on its own validation split (the same
 * seeded split it was trained with) and on the test split when there is one. Cached in the run folder,
 * keyed by the best epoch, so reopening a project does not recompute it.
 */
export async function evaluateRun(projectDir: string, runId: string): Promise<RunEvaluation> {
  const run = await readRun(projectDir, runId)
  if (run.bestEpoch === null) throw new Error(`run ${runId} has no best weights yet (status ${run.status})`)
  const dir = runDir(projectDir, runId)
  const cached = await readFile(join(dir, EVALUATION_FILE), 'utf8').then((t) => JSON.parse(t) as RunEvaluation).catch(() => undefined)
  if (cached && cached.epoch === run.bestEpoch) return cached

  await selectBackend()
  const { model, meta } = await loadCheckpoint(join(dir, 'best'))
  try {
    const { data } = await prepareTrainingData(run.dataset, run.classes.length > 0 ? run.classes : undefined, run.config)
    const normalization = { mean: meta.normalization.mean as [number, number, number], std: meta.normalization.std as [number, number, number] }
    const splits: SplitEvaluation[] = []
    for (const [split, part] of [['val', data.val], ['test', data.test]] as const) {
      if (part && part.indices.length > 0) splits.push(await evaluateSplit(model, split, part.set, part.indices, data.size, normalization, meta.classNames.length))
    }
    const evaluation: RunEvaluation = { runId, epoch: meta.epoch, classNames: meta.classNames, splits }
    await writeJsonAtomic(join(dir, EVALUATION_FILE), evaluation)
    return evaluation
  } finally {
    model.dispose()
  }
}

async function evaluateSplit(
  model: tf.LayersModel,
  split: 'val' | 'test',
  set: ImageSet,
  indices: Int32Array,
  size: number,
  normalization: { mean: [number, number, number]; std: [number, number, number] },
  numClasses: number
): Promise<SplitEvaluation> {
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0))
  const cellSources = Array.from({ length: numClasses }, () => Array.from({ length: numClasses }, () => [] as string[]))
  const unused = createRandom(0)
  for (let start = 0; start < indices.length; start += CHUNK) {
    const chunk = indices.subarray(start, start + CHUNK)
    const batch = makeBatch(set, chunk, size, normalization, null, unused)
    const predicted = tf.tidy(() => tf.argMax(forward(model, tf.tensor4d(batch.x, [batch.count, size, size, 3]), false), -1))
    const labels = (await predicted.data()) as Int32Array
    predicted.dispose()
    labels.forEach((p, i) => {
      const truth = batch.labels[i]
      confusion[truth][p]++
      cellSources[truth][p].push(set.sources[chunk[i]])
    })
    await new Promise<void>((resolve) => setImmediate(resolve)) // let a training job's next batch in
  }
  const correct = confusion.reduce((sum, row, i) => sum + row[i], 0)
  return {
    split,
    count: indices.length,
    accuracy: correct / indices.length,
    confusion,
    perClassAccuracy: confusion.map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0)
      return total === 0 ? null : row[i] / total
    }),
    cellSources
  }
}
