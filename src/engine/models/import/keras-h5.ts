import { randomBytes } from 'node:crypto'
import { fstatSync, ftruncateSync, openSync, readSync, rmSync, unlinkSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PretrainedImportError, type LayerWeights, type NamedWeight } from './import-error'

/** What a Keras HDF5 file holds, as plain data. */
export interface KerasH5Contents {
  /** Weights by layer name, layers and weights in the order the file lists them. */
  layers: LayerWeights
  /** Keras' `model_config` (a full-model save); undefined for a weights-only file. */
  modelConfig?: Record<string, unknown>
  kerasVersion?: string
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])

/**
 * Whether a file starts an HDF5 superblock (at 0, or after a user block of 512 · 2ⁿ bytes). Checked
 * before HDF5 opens it: the library reports a foreign file only as a diagnostic dump on stderr.
 */
async function hasHdf5Signature(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    const probe = Buffer.alloc(8)
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      await handle.read(probe, 0, 8, offset)
      if (probe.equals(HDF5_SIGNATURE)) return true
      if (offset >= 1 << 20) break
    }
    return false
  } finally {
    await handle.close()
  }
}

type H5 = typeof import('h5wasm/node')
type H5Group = InstanceType<H5['Group']>
let h5Module: Promise<H5> | undefined

/** Where HDF5's stderr goes instead of the terminal (a file descriptor), once captured. */
let diagnosticsFd: number | undefined

/**
 * HDF5 prints its whole error stack (dozens of `HDF5-DIAG` lines) to stderr whenever a call fails,
 * and h5wasm offers no switch for it. In its Node build the wasm file system passes stderr straight
 * to the process's descriptor 2 (the emscripten stream's `nfd`); pointed at an unlinked temp file
 * instead, the dump is kept out of the user's terminal and read back for the one line that matters.
 * If the module is not laid out as expected, nothing changes (the dump shows, errors still work).
 */
function captureDiagnostics(h5: H5): void {
  const stream = (h5.FS as { getStream?: (fd: number) => { nfd?: unknown } | null } | null)?.getStream?.(2)
  if (!stream || stream.nfd !== 2) return
  const path = join(tmpdir(), `workbench-hdf5-${process.pid}-${randomBytes(4).toString('hex')}.log`)
  try {
    diagnosticsFd = openSync(path, 'a+')
    stream.nfd = diagnosticsFd
  } catch {
    return
  }
  try {
    unlinkSync(path) // the descriptor keeps it readable; nothing is left behind
  } catch {
    process.once('exit', () => rmSync(path, { force: true }))
  }
}

/** Forgets what HDF5 said so far. */
function clearDiagnostics(): void {
  if (diagnosticsFd !== undefined) ftruncateSync(diagnosticsFd, 0)
}

/**
 * What HDF5 said since the diagnostics were last cleared: the message of the deepest frame of its
 * first error stack (`bad superblock version number` from H5F__superblock_prefix_decode), the most
 * specific cause.
 */
function firstDiagnostic(): string | undefined {
  if (diagnosticsFd === undefined) return undefined
  const size = Math.min(fstatSync(diagnosticsFd).size, 1 << 16)
  const text = Buffer.alloc(size)
  readSync(diagnosticsFd, text, 0, size, 0)
  let deepest: string | undefined
  for (const line of text.toString('utf8').split('\n')) {
    if (/^HDF5-DIAG/.test(line) && deepest !== undefined) break
    const frame = /#\d+: .* in \w+\(\): (.*)$/.exec(line)
    if (frame) deepest = frame[1]
  }
  return deepest
}

/** Loads h5wasm's Node build once, on first use (its wasm HDF5 reads the real file system directly). */
async function loadH5wasm(): Promise<H5> {
  h5Module ??= import('h5wasm/node').then(async (h5) => {
    await h5.ready
    captureDiagnostics(h5)
    return h5
  })
  return h5Module
}

/** String-array attribute (Keras writes fixed-length byte strings; h5wasm decodes them). */
function stringList(group: H5Group, attribute: string): string[] | undefined {
  if (!(attribute in group.attrs)) return undefined
  const value = group.get_attribute(attribute, true)
  const list = Array.isArray(value) ? value : [value]
  return list.map(String)
}

function stringAttr(group: H5Group, attribute: string): string | undefined {
  if (!(attribute in group.attrs)) return undefined
  const value = group.get_attribute(attribute, true)
  return Array.isArray(value) ? String(value[0]) : String(value)
}

/**
 * Reads a Keras 2 / tf.keras HDF5 file: a full-model save (`model.save('m.h5')`: weights under
 * `model_weights/`, architecture in the `model_config` attribute) or a weights-only save
 * (`save_weights`, as the keras.applications downloads are), both with `layer_names` and per-layer
 * `weight_names` attributes naming datasets like `block1_conv1/block1_conv1/kernel:0`.
 * @throws PretrainedImportError naming the file and what is wrong with it
 */
export async function readKerasH5(path: string): Promise<KerasH5Contents> {
  if (!(await hasHdf5Signature(path))) throw new PretrainedImportError(path, 'not an HDF5 file (no HDF5 signature); expected a Keras .h5 save')
  const h5 = await loadH5wasm()
  // HDF5 calls are synchronous from here on: what the diagnostics hold at the end was said about this file.
  clearDiagnostics()
  const hdf5Says = (): string => {
    const cause = firstDiagnostic()
    return cause ? ` (HDF5: ${cause})` : ''
  }
  let file: InstanceType<H5['File']>
  try {
    file = new h5.File(path, 'r')
  } catch (error) {
    throw new PretrainedImportError(path, `HDF5 cannot open it: ${(error as Error).message}${hdf5Says()}`)
  }
  // h5wasm does not throw when HDF5 refuses the file: it hands back an invalid id (negative).
  if (typeof file.file_id !== 'bigint' || file.file_id < 0n) {
    throw new PretrainedImportError(path, `has an HDF5 signature but HDF5 cannot open it: damaged, truncated or not an HDF5 file${hdf5Says()}`)
  }
  try {
    return readKerasContents(h5, file, path)
  } catch (error) {
    if (error instanceof PretrainedImportError) throw error
    // h5wasm's own messages ("error - name not defined!") name no file and no object.
    throw new PretrainedImportError(path, `HDF5 could not read it: ${(error as Error).message}${hdf5Says()}; the file is damaged or not a Keras save`)
  } finally {
    file.close()
  }
}

/** The layers, weights and config of an open Keras HDF5 file. */
function readKerasContents(h5: H5, file: InstanceType<H5['File']>, path: string): KerasH5Contents {
  const weightsRoot = file.get('model_weights')
  const root = weightsRoot instanceof h5.Group ? weightsRoot : file
  const layerNames = stringList(root, 'layer_names')
  if (!layerNames) {
    const hint = file.keys().includes('layers') || file.keys().includes('_layer_checkpoint_dependencies')
      ? 'this looks like a Keras 3 `.weights.h5`; save with Keras 2 / tf.keras `model.save("m.h5")` or `save_weights("w.h5")`'
      : `its top-level entries are: ${file.keys().join(', ') || '(none)'}`
    throw new PretrainedImportError(path, `no 'layer_names' attribute, so this is not a Keras HDF5 save; ${hint}`)
  }
  const layers: LayerWeights = new Map()
  for (const layerName of layerNames) {
    const group = root.get(layerName)
    if (!(group instanceof h5.Group)) throw new PretrainedImportError(path, `layer_names lists '${layerName}', but the file has no group of that name`)
    const weights: NamedWeight[] = []
    for (const weightName of stringList(group, 'weight_names') ?? []) {
      const dataset = group.get(weightName)
      if (!(dataset instanceof h5.Dataset)) throw new PretrainedImportError(path, `layer '${layerName}' lists weight '${weightName}', but there is no such dataset`)
      const value = dataset.value
      if (!(value instanceof Float32Array || value instanceof Float64Array)) {
        throw new PretrainedImportError(path, `weight '${layerName}/${weightName}' has dtype ${JSON.stringify(dataset.dtype)}; only float32/float64 weights can be imported`)
      }
      weights.push({ name: weightName, shape: dataset.shape ?? [], values: value instanceof Float32Array ? value : Float32Array.from(value) })
    }
    layers.set(layerName, weights)
  }
  const configText = stringAttr(file, 'model_config')
  let modelConfig: Record<string, unknown> | undefined
  if (configText) {
    try {
      modelConfig = JSON.parse(configText) as Record<string, unknown>
    } catch {
      throw new PretrainedImportError(path, "the 'model_config' attribute is not valid JSON")
    }
  }
  return { layers, modelConfig, kerasVersion: stringAttr(file, 'keras_version') ?? stringAttr(root, 'keras_version') }
}
