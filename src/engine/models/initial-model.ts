import type * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { RunRecord } from '../../shared/project'
import { isFrozenVariant } from '../../shared/transfer'
import { buildVgg } from './build-vgg'
import { type ArchId, listWeightLayers, parseArch } from '../../shared/vgg'
import { transferLayers } from './transfer'
import { deriveSeed } from '../random'
import { loadCheckpoint } from './checkpoint'

/** What a run's starting model needs besides its record. */
export interface InitialModelOptions {
  /** Classes of the run's task: the output layer's width. */
  numClasses: number
  /** Folder of the source run (transfers): layers 1…n come from its `best/` weights. */
  sourceDir?: string
}

/**
 * The model a run's training starts from — the one place that decides it, for training and for the
 * views that show what training changed: a VGG seeded by the run's seed and id, and for a transfer
 * its layers 1…n copied from the source run's best weights (frozen for AnB/BnB). The caller owns
 * the model and disposes it.
 * @throws Error when a transfer run's source, n or variant is missing
 */
export async function buildInitialModel(run: RunRecord, options: InitialModelOptions): Promise<tf.Sequential> {
  const config = run.config
  const model = buildVgg({
    arch: config.arch as ArchId,
    width: config.width,
    numClasses: options.numClasses,
    inputSize: config.inputSize,
    dropout: config.dropout,
    seed: deriveSeed(config.seed, `init:${run.id}`)
  })
  if (run.kind !== 'transfer') return model
  try {
    await applyTransfer(model, run, options.sourceDir)
    return model
  } catch (error) {
    model.dispose()
    throw error
  }
}

/** Copies layers 1…n from the source run's best weights, freezing them for AnB/BnB. */
async function applyTransfer(model: tf.LayersModel, run: RunRecord, sourceDir: string | undefined): Promise<void> {
  if (!sourceDir || run.n === null || run.variant === null) {
    throw new Error(`run ${run.id}: a transfer run needs its source run (${run.sourceRunId ?? 'none'}), n and a variant`)
  }
  const bestDir = join(sourceDir, 'best')
  if (!existsSync(join(bestDir, 'model.json'))) throw new Error(`run ${run.id}: source run ${run.sourceRunId} has no best weights (${bestDir})`)
  const source = await loadCheckpoint(bestDir)
  try {
    const names = listWeightLayers(parseArch(run.config.arch).depth).map((l) => l.name)
    transferLayers(source.model, model, names, run.n, isFrozenVariant(run.variant))
  } finally {
    source.model.dispose()
  }
}
