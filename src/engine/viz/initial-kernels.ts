import { stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { listWeightLayers } from '../../shared/vgg'
import { runDir } from '../project/project-store'
import { WEIGHTS_FILE } from '../models/checkpoint'
import { buildInitialModel } from '../models/initial-model'
import type { RunModel } from './run-model'
import { readKernel, type WeightArray } from './weights'

/**
 * The conv kernels a run's training started from, rebuilt with the trainer's own buildInitialModel
 * (seeded initialization, plus the layers a transfer copied from its source's best weights).
 * Kept per run as plain arrays — the rebuilt model is disposed at once, so nothing here holds
 * tensors — and rebuilt when the run's settings or its source's best weights change.
 */
export class InitialKernelCache {
  private readonly entries = new Map<string, { stamp: string; kernels: Promise<Map<string, WeightArray>> }>()

  constructor(private readonly capacity = 2) {}

  /** The initial kernel of one conv layer of the run. */
  async kernel(projectDir: string, run: RunModel, layerName: string): Promise<WeightArray> {
    const kernels = await this.kernels(projectDir, run)
    const kernel = kernels.get(layerName)
    if (!kernel) throw new Error(`run ${run.runId}: no initial kernel for '${layerName}' (conv layers only)`)
    return kernel
  }

  /** Forgets every cached run. */
  dispose(): void {
    this.entries.clear()
  }

  private async kernels(projectDir: string, run: RunModel): Promise<Map<string, WeightArray>> {
    const { record } = run
    const key = dirname(run.checkpointDir)
    const sourceDir = record.kind === 'transfer' && record.sourceRunId ? runDir(projectDir, record.sourceRunId) : undefined
    const sourceStamp = sourceDir ? ((await stat(join(sourceDir, 'best', WEIGHTS_FILE)).catch(() => null))?.mtimeMs ?? -1) : null
    const numClasses = run.meta.classNames.length
    const stamp = JSON.stringify([record.id, record.kind, record.config, record.n, record.variant, record.sourceRunId, numClasses, sourceStamp])
    let entry = this.entries.get(key)
    if (entry?.stamp !== stamp) {
      const kernels = readInitialKernels(run, numClasses, sourceDir)
      entry = { stamp, kernels }
      const made = entry
      // A failed build must not stay cached.
      kernels.catch(() => {
        if (this.entries.get(key) === made) this.entries.delete(key)
      })
    }
    this.entries.delete(key) // re-inserted: Map order is the eviction order (least recently used first)
    this.entries.set(key, entry)
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string)
    return entry.kernels
  }
}

async function readInitialKernels(run: RunModel, numClasses: number, sourceDir: string | undefined): Promise<Map<string, WeightArray>> {
  const model = await buildInitialModel(run.record, { numClasses, sourceDir })
  try {
    const kernels = new Map<string, WeightArray>()
    for (const layer of listWeightLayers(run.depth)) if (layer.kind === 'conv') kernels.set(layer.name, await readKernel(model, layer.name))
    return kernels
  } finally {
    model.dispose()
  }
}
