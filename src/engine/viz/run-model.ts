import type * as tf from '@tensorflow/tfjs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunRecord } from '../../shared/project'
import { seedLayerLabel, type VizLayerInfo } from '../../shared/viz'
import { listWeightLayers, parseArch, resolveLayerName, type VggDepth, type WeightLayerInfo } from '../../shared/vgg'
import { readRun, runDir } from '../project/project-store'
import { loadCheckpoint, WEIGHTS_FILE, type CheckpointMeta } from '../models/checkpoint'

/** A run's trained model with everything needed to feed it and to name its layers. */
export interface RunModel {
  runId: string
  record: RunRecord
  /** The checkpoint folder the model came from. */
  checkpointDir: string
  model: tf.LayersModel
  meta: CheckpointMeta
  depth: VggDepth
}

/** Which of a run's checkpoints: the best epoch (default) or the last one. */
export type CheckpointName = 'best' | 'last'

/** Loads a run's checkpoint. The caller owns the model (dispose it, or use RunModelCache). */
export async function openRunModel(projectDir: string, runId: string, checkpoint: CheckpointName = 'best'): Promise<RunModel> {
  const record = await readRun(projectDir, runId)
  const checkpointDir = join(runDir(projectDir, runId), checkpoint)
  let loaded: Awaited<ReturnType<typeof loadCheckpoint>>
  try {
    loaded = await loadCheckpoint(checkpointDir)
  } catch (error) {
    throw new Error(`run ${runId} has no readable ${checkpoint}/ checkpoint (status ${record.status}): ${(error as Error).message}`)
  }
  return { runId, record, checkpointDir, model: loaded.model, meta: loaded.meta, depth: parseArch(loaded.meta.arch).depth }
}

/** A model handed out by RunModelCache, kept alive until released. */
export interface RunModelLease {
  run: RunModel
  /** Lets the cache evict the model again (call once, when done with it). */
  release(): void
}

/**
 * Keeps the last few opened run models, so a view that asks for filters, then maps, then top images
 * of the same run loads its checkpoint once. A checkpoint rewritten since (training went on) is
 * reloaded. A leased model is never evicted: requests interleave in the trainer process, and one
 * must not dispose a model another is still scanning with.
 */
export class RunModelCache {
  private readonly entries = new Map<string, { stamp: number; value: RunModel; pins: number; stale: boolean }>()

  constructor(private readonly capacity = 2) {}

  /** Leases the run's model, from the cache when its checkpoint has not changed. */
  async acquire(projectDir: string, runId: string, checkpoint: CheckpointName = 'best'): Promise<RunModelLease> {
    const key = join(runDir(projectDir, runId), checkpoint)
    const stamp = (await stat(join(key, WEIGHTS_FILE)).catch(() => null))?.mtimeMs ?? -1
    let entry = this.entries.get(key)
    if (entry && entry.stamp !== stamp) {
      this.entries.delete(key)
      this.retire(entry)
      entry = undefined
    }
    if (!entry) {
      entry = { stamp, value: await openRunModel(projectDir, runId, checkpoint), pins: 0, stale: false }
    } else this.entries.delete(key) // re-inserted below: Map order is the eviction order (least recently used first)
    this.entries.set(key, entry)
    entry.pins++
    this.trim()
    const held = entry
    let released = false
    return {
      run: held.value,
      release: () => {
        if (released) return
        released = true
        held.pins--
        if (held.stale) this.retire(held)
        this.trim()
      }
    }
  }

  /** The run's model without a lease: valid until the next call into the cache (the CLI and tests). */
  async open(projectDir: string, runId: string, checkpoint: CheckpointName = 'best'): Promise<RunModel> {
    const lease = await this.acquire(projectDir, runId, checkpoint)
    lease.release()
    return lease.run
  }

  /** Frees every cached model (leased ones when they are released). */
  dispose(): void {
    for (const entry of this.entries.values()) this.retire(entry)
    this.entries.clear()
  }

  /** Evicts least recently used, unleased models while over capacity. */
  private trim(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.capacity) return
      if (entry.pins > 0) continue
      this.entries.delete(key)
      this.retire(entry)
    }
  }

  /** Disposes a model that left the cache, now or when its last lease ends. */
  private retire(entry: { value: RunModel; pins: number; stale: boolean }): void {
    entry.stale = true
    if (entry.pins === 0) entry.value.model.dispose()
  }
}

/**
 * Resolves a layer named by its Keras name or seed 003's label ("conv 1-1") to a weight layer of
 * this architecture. With `convOnly`, a dense layer is an error (filters and maps need a conv).
 * @throws Error listing the valid names when the label names nothing usable
 */
export function resolveVizLayer(depth: VggDepth, label: string, options: { convOnly?: boolean } = {}): WeightLayerInfo {
  const layers = listWeightLayers(depth)
  const name = resolveLayerName(depth, label)
  const info = layers.find((l) => l.name === name)
  const usable = layers.filter((l) => !options.convOnly || l.kind === 'conv')
  if (!info || !usable.includes(info)) {
    const valid = usable.map((l) => (l.kind === 'conv' ? `${l.name} (${seedLayerLabel(l.name)})` : l.name)).join(', ')
    throw new Error(`'${label}' is not a ${options.convOnly ? 'conv ' : ''}layer of ${depth}; use one of ${valid}`)
  }
  return info
}

/**
 * The layer whose output is "the activation" of a conv: its ReLU when the model has batch norm
 * (conv → BN → ReLU), else the conv itself (its ReLU is built in, as in Keras' VGG16).
 */
export function activationLayerName(model: tf.LayersModel, convName: string): string {
  return model.layers.some((l) => l.name === `${convName}_relu`) ? `${convName}_relu` : convName
}

/** The weight layers of a loaded model as the views list them. */
export function listVizLayers(model: tf.LayersModel, depth: VggDepth, inputSize: number): VizLayerInfo[] {
  return listWeightLayers(depth).map((info) => {
    const layer = model.getLayer(info.name)
    const shape = layer.outputShape as (number | null)[]
    return {
      name: info.name,
      label: seedLayerLabel(info.name),
      kind: info.kind,
      index: info.index,
      channels: shape[shape.length - 1] ?? 0,
      outputSize: info.kind === 'conv' ? inputSize / 2 ** ((info.block ?? 1) - 1) : 1,
      trainable: layer.trainable
    }
  })
}
