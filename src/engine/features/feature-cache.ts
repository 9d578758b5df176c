import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureCacheInfo, FeaturePooling, PreprocessingSpec } from '../../shared/features'
import type { ImageSet } from '../data/dataset'
import { writeJsonAtomic } from '../project/atomic-files'
import { cacheKey, cacheSlot, CACHE_FORMAT_VERSION, fingerprintImages, type CacheKeyParts } from './cache-key'
import { extractFeatures, pooledDims } from './extract'
import { checkCancelled } from './cancel'
import { makeInputBatch } from './preprocessing'

/** The folder under a project that holds feature caches (safe to delete: they are rebuilt). */
export function featureCacheRoot(projectDir: string): string {
  return join(projectDir, 'cache', 'features')
}

const FEATURES_FILE = 'features.f32'
const LABELS_FILE = 'labels.i32'
const INDICES_FILE = 'indices.i32'
/** Written last: a slot without it is an unfinished or foreign folder and is never read. */
const META_FILE = 'meta.json'
/** A heads' training set is read into memory; beyond this a layer needs pooling rather than a bigger machine. */
export const MAX_CACHE_BYTES = 2 ** 31

/** What meta.json holds: the listing info plus the full key it was built for. */
export interface FeatureCacheMeta extends FeatureCacheInfo {
  formatVersion: number
  key: string
  parts: CacheKeyParts
}

/** An open feature cache: metadata and labels in memory, feature rows read from disk on demand. */
export interface FeatureCache {
  dir: string
  meta: FeatureCacheMeta
  /** Class label of each row. */
  labels: Int32Array
  /** Index of each row's image in the image set it was built from. */
  imageIndices: Int32Array
  /** Reads the given rows (row numbers, any order) into one rows × dims matrix. */
  readRows(rows: ArrayLike<number>): Promise<Float32Array>
}

/** Everything needed to fill (or reuse) caches for several layers of one model over one image set. */
export interface CacheRequest {
  model: tf.LayersModel
  modelFingerprint: string
  /** Run id or model path, as the user named it. */
  source: string
  layers: string[]
  pooling: FeaturePooling
  dataset: string
  split: 'train' | 'test'
  classNames: string[]
  set: ImageSet
  indices: Int32Array
  /** Side of the stored images, and the side the network expects. */
  imageSize: number
  inputSize: number
  preprocessing: PreprocessingSpec
  /** Images per forward pass (memory, not results). */
  batchSize?: number
  /** Checked between batches: a cancelled extraction leaves no cache behind. */
  signal?: AbortSignal
}

export interface CacheOutcome {
  /** One open cache per requested layer. */
  caches: Map<string, FeatureCache>
  /** Seconds spent extracting (0 when every layer was reused). */
  seconds: number
  hits: number
  misses: number
}

/**
 * Returns a valid cache for every requested layer: reused when its slot holds the same key,
 * otherwise extracted, all missing layers in one forward pass over the images, streamed to disk
 * batch by batch (only one batch of features is ever in memory), and swapped into the slot whole.
 */
export async function ensureFeatureCaches(
  root: string,
  request: CacheRequest,
  onProgress?: (done: number, total: number) => void
): Promise<CacheOutcome> {
  for (const layer of request.layers) {
    const bytes = pooledDims(request.model, layer, request.pooling) * request.indices.length * 4
    if (bytes > MAX_CACHE_BYTES) {
      throw new Error(`features of '${layer}' (${request.pooling}) for ${request.indices.length} images would take ${(bytes / 2 ** 30).toFixed(1)} GiB; use 'avg' or 'max' pooling, fewer images, or a deeper layer`)
    }
  }
  const imagesFingerprint = fingerprintImages(request.set, request.indices, request.imageSize * request.imageSize * 3)
  const caches = new Map<string, FeatureCache>()
  const missing: { layer: string; parts: CacheKeyParts }[] = []
  for (const layer of request.layers) {
    const parts: CacheKeyParts = {
      source: request.source,
      modelFingerprint: request.modelFingerprint,
      layer,
      pooling: request.pooling,
      dataset: request.dataset,
      split: request.split,
      classNames: request.classNames,
      imagesFingerprint,
      preprocessing: request.preprocessing,
      inputSize: request.inputSize
    }
    const existing = await openValidCache(join(root, cacheSlot(parts)), cacheKey(parts))
    if (existing) caches.set(layer, existing)
    else missing.push({ layer, parts })
  }
  if (missing.length === 0) return { caches, seconds: 0, hits: caches.size, misses: 0 }

  const start = performance.now()
  await mkdir(root, { recursive: true })
  const temps = missing.map(({ parts }) => join(root, `.${cacheSlot(parts)}.${process.pid}.tmp`))
  const handles: FileHandle[] = []
  try {
    for (const temp of temps) {
      await rm(temp, { recursive: true, force: true })
      await mkdir(temp)
      handles.push(await open(join(temp, FEATURES_FILE), 'w'))
    }
    const dims = await streamFeatures(request, missing.map((m) => m.layer), handles, onProgress)
    for (const handle of handles) await handle.sync()
    const seconds = (performance.now() - start) / 1000
    for (let i = 0; i < missing.length; i++) {
      const { layer, parts } = missing[i]
      await handles[i].close()
      const slot = join(root, cacheSlot(parts))
      const meta = describeCache(cacheSlot(parts), parts, request.indices.length, dims[i], seconds)
      await writeInts(join(temps[i], LABELS_FILE), Int32Array.from(request.indices, (index) => request.set.labels[index]))
      await writeInts(join(temps[i], INDICES_FILE), request.indices)
      await writeJsonAtomic(join(temps[i], META_FILE), meta)
      // The stale slot (if any) goes first; a crash in between only loses a cache, never mixes two.
      await rm(slot, { recursive: true, force: true })
      await rename(temps[i], slot).catch(async (error: NodeJS.ErrnoException) => {
        // Another process filled the same slot meanwhile: fine if it built the same key.
        if (!['ENOTEMPTY', 'EEXIST'].includes(error.code ?? '') || !(await openValidCache(slot, meta.key))) throw error
      })
      caches.set(layer, (await openValidCache(slot, meta.key)) as FeatureCache)
    }
    return { caches, seconds, hits: request.layers.length - missing.length, misses: missing.length }
  } finally {
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)))
    await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })))
  }
}

/** One forward pass over the images; appends each layer's pooled features to its file. Returns dims per layer. */
async function streamFeatures(
  request: CacheRequest,
  layers: string[],
  handles: FileHandle[],
  onProgress?: (done: number, total: number) => void
): Promise<number[]> {
  const batchSize = request.batchSize ?? 64
  const total = request.indices.length
  const dims = layers.map(() => 0)
  for (let start = 0; start < total; start += batchSize) {
    await checkCancelled(request.signal)
    const indices = request.indices.subarray(start, start + batchSize)
    const { x } = makeInputBatch(request.set, indices, request.imageSize, request.inputSize, request.preprocessing)
    let features: tf.Tensor2D[]
    try {
      features = extractFeatures(request.model, x, layers, request.pooling)
    } finally {
      x.dispose()
    }
    try {
      for (let i = 0; i < layers.length; i++) {
        dims[i] = features[i].shape[1]
        const values = (await features[i].data()) as Float32Array
        await handles[i].write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
      }
    } finally {
      tf.dispose(features)
    }
    onProgress?.(Math.min(total, start + batchSize), total)
  }
  return dims
}

function describeCache(id: string, parts: CacheKeyParts, rows: number, dims: number, seconds: number): FeatureCacheMeta {
  return {
    id,
    formatVersion: CACHE_FORMAT_VERSION,
    key: cacheKey(parts),
    parts,
    source: parts.source,
    layer: parts.layer,
    pooling: parts.pooling,
    dataset: parts.dataset,
    split: parts.split,
    classNames: parts.classNames,
    rows,
    dims,
    bytes: rows * dims * 4,
    seconds,
    createdAt: new Date().toISOString()
  }
}

async function writeInts(path: string, values: Int32Array): Promise<void> {
  const handle = await open(path, 'w')
  try {
    await handle.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
  } finally {
    await handle.close()
  }
}

async function readInts(path: string): Promise<Int32Array> {
  const bytes = await readFile(path)
  // Copy: a pooled Buffer may start at an offset that is not a multiple of 4.
  return new Int32Array(new Uint8Array(bytes).buffer)
}

/**
 * Opens the cache in a slot if it is complete and was built for exactly this key; otherwise
 * undefined (missing, unfinished, stale, or truncated on disk).
 */
async function openValidCache(dir: string, key: string): Promise<FeatureCache | undefined> {
  const metaFile = join(dir, META_FILE)
  if (!existsSync(metaFile)) return undefined
  let meta: FeatureCacheMeta
  try {
    meta = JSON.parse(await readFile(metaFile, 'utf8')) as FeatureCacheMeta
  } catch {
    return undefined
  }
  if (meta.formatVersion !== CACHE_FORMAT_VERSION || meta.key !== key) return undefined
  const featuresFile = join(dir, FEATURES_FILE)
  const size = await stat(featuresFile).then((s) => s.size, () => -1)
  if (size !== meta.rows * meta.dims * 4) return undefined
  const labels = await readInts(join(dir, LABELS_FILE)).catch(() => undefined)
  const imageIndices = await readInts(join(dir, INDICES_FILE)).catch(() => undefined)
  if (!labels || !imageIndices || labels.length !== meta.rows || imageIndices.length !== meta.rows) return undefined
  return { dir, meta, labels, imageIndices, readRows: (rows) => readFeatureRows(featuresFile, meta, rows) }
}

async function readFeatureRows(file: string, meta: FeatureCacheMeta, rows: ArrayLike<number>): Promise<Float32Array> {
  const out = new Float32Array(rows.length * meta.dims)
  const rowBytes = meta.dims * 4
  const handle = await open(file, 'r')
  try {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      if (!(row >= 0 && row < meta.rows)) throw new RangeError(`feature cache ${meta.id}: row ${row} is outside 0 … ${meta.rows - 1}`)
      // Read straight into the result's memory: no intermediate copy per row.
      await handle.read(new Uint8Array(out.buffer, i * rowBytes, rowBytes), 0, rowBytes, row * rowBytes)
    }
  } finally {
    await handle.close()
  }
  return out
}

/** Lists the complete caches under a project's cache folder (for the UI's cache manager). */
export async function listFeatureCaches(root: string): Promise<FeatureCacheInfo[]> {
  if (!existsSync(root)) return []
  const out: FeatureCacheInfo[] = []
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    try {
      const { formatVersion: _v, key: _k, parts: _p, ...info } = JSON.parse(await readFile(join(root, entry.name, META_FILE), 'utf8')) as FeatureCacheMeta
      out.push(info)
    } catch {
      // An unfinished slot: not listed.
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
}
