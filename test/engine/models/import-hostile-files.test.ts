/**
 * Pretrained model files made to hurt: a garbage HDF5 file behind a valid signature (one line naming
 * the file, no HDF5 diagnostic dump), and a tfjs model.json whose shard paths lead out of its folder or
 * whose shards do not match the manifest (nothing outside is read, nor its size shown).
 */
import * as tf from '@tensorflow/tfjs'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PretrainedImportError } from '../../../src/engine/models/import/import-error'
import { readKerasH5 } from '../../../src/engine/models/import/keras-h5'
import { loadTfjsLayersFiles } from '../../../src/engine/models/import/tfjs-layers-files'
import { runCli } from '../../helpers/run-cli'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-hostile-import-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The 8-byte HDF5 signature followed by deterministic garbage. */
function garbageHdf5(bytes = 4096): Buffer {
  const data = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i++) data[i] = (i * 131 + 7) & 255
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(data)
  return data
}

async function importError(promise: Promise<unknown>): Promise<PretrainedImportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(PretrainedImportError)
  return error as PretrainedImportError
}

describe('Keras HDF5: a file with the signature but garbage after it', () => {
  it('is refused in one line naming the file and HDF5’s own reason', async () => {
    const path = join(dir, 'garbage.h5')
    await writeFile(path, garbageHdf5())
    const error = await importError(readKerasH5(path))
    expect(error.file).toBe(path)
    expect(error.message.split('\n')).toHaveLength(1)
    expect(error.message).toMatch(/garbage\.h5: has an HDF5 signature but HDF5 cannot open it/)
    expect(error.message).toMatch(/HDF5: bad superblock version number/)
    expect(error.message).not.toMatch(/name not defined/)
    // The same again: the diagnostics of one file never leak into the next message.
    expect((await importError(readKerasH5(path))).message).toBe(error.message)
  })

  it('from the CLI: exit 1 and one line on stderr naming the file, no HDF5-DIAG dump', async () => {
    const path = join(dir, 'garbage-cli.h5')
    await writeFile(path, garbageHdf5())
    const result = await runCli(['features', 'inspect', '--model', path], { env: { WORKBENCH_BACKEND: 'wasm' } })
    expect(result.code).toBe(1)
    expect(result.stderr).not.toMatch(/HDF5-DIAG|#0\d\d:|name not defined/)
    const lines = result.stderr.trim().split('\n').filter((l) => !/^warning:|backend/i.test(l))
    expect(lines, result.stderr).toHaveLength(1)
    expect(lines[0]).toContain(path)
  }, 60_000)
})

/** A tiny tfjs Layers model on disk: model.json + the shards given (default: one weights.bin). */
async function writeTinyModel(folder: string, paths?: (weights: Uint8Array) => Record<string, Uint8Array>): Promise<{ modelJson: string; manifest: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] }; bytes: number }> {
  await mkdir(folder, { recursive: true })
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'tiny' })] })
  const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
    void model.save(tf.io.withSaveHandler(async (a) => {
      resolve(a)
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }))
  })
  model.dispose()
  const weights = new Uint8Array(artifacts.weightData as ArrayBuffer)
  const shards = paths ? paths(weights) : { 'weights.bin': weights }
  for (const [name, data] of Object.entries(shards)) if (!name.includes('..') && !name.startsWith('/')) await writeFile(join(folder, name), data)
  const manifest = { modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: Object.keys(shards), weights: artifacts.weightSpecs as unknown[] }] }
  const modelJson = join(folder, 'model.json')
  await writeFile(modelJson, JSON.stringify(manifest))
  return { modelJson, manifest, bytes: weights.byteLength }
}

describe('tfjs model.json: shard paths and sizes', () => {
  it('loads a model whose shards sit beside model.json', async () => {
    const { modelJson } = await writeTinyModel(join(dir, 'good'))
    const model = await loadTfjsLayersFiles(modelJson)
    // The loaded kernel and bias are exactly the bytes in the shard.
    const saved = new Float32Array((await readFile(join(dir, 'good', 'weights.bin'))).buffer.slice(0))
    const loaded = (await Promise.all(model.getLayer('tiny').getWeights().map((w) => w.data()))).flatMap((d) => Array.from(d))
    expect(loaded).toEqual(Array.from(saved))
    model.dispose()
  })

  it('refuses shard paths that leave the model folder (.., absolute, a link out) without reading them', async () => {
    const { modelJson, manifest, bytes } = await writeTinyModel(join(dir, 'escape'))
    // A file outside the folder exactly as large as the weights: only the path check can stop it.
    const outside = join(dir, 'outside-secret.bin')
    await writeFile(outside, new Uint8Array(bytes))
    for (const path of ['../outside-secret.bin', '../../../../etc/passwd', outside, 'sub/../../outside-secret.bin']) {
      manifest.weightsManifest[0]!.paths = [path]
      await writeFile(modelJson, JSON.stringify(manifest))
      const error = await importError(loadTfjsLayersFiles(modelJson))
      expect(error.message, path).toContain(`"${path}" leads outside the model's folder`)
      expect(error.message).not.toMatch(/hold \d+ bytes/)
    }
    await symlink(outside, join(dir, 'escape', 'linked.bin'))
    manifest.weightsManifest[0]!.paths = ['linked.bin']
    await writeFile(modelJson, JSON.stringify(manifest))
    expect((await importError(loadTfjsLayersFiles(modelJson))).message).toMatch(/linked\.bin: .*is a link to .*outside-secret\.bin, outside the model's folder/)
  })

  it('checks each shard group against the manifest before reading: too short, too long, not a file', async () => {
    const { modelJson, manifest, bytes } = await writeTinyModel(join(dir, 'sizes'))
    await writeFile(join(dir, 'sizes', 'short.bin'), new Uint8Array(bytes - 4))
    await writeFile(join(dir, 'sizes', 'long.bin'), new Uint8Array(bytes + 4))
    await mkdir(join(dir, 'sizes', 'folder.bin'))
    manifest.weightsManifest[0]!.paths = ['short.bin']
    await writeFile(modelJson, JSON.stringify(manifest))
    expect((await importError(loadTfjsLayersFiles(modelJson))).message).toContain(`(short.bin) hold ${bytes - 4} bytes, but the weights it lists need ${bytes}`)
    manifest.weightsManifest[0]!.paths = ['long.bin']
    await writeFile(modelJson, JSON.stringify(manifest))
    expect((await importError(loadTfjsLayersFiles(modelJson))).message).toContain(`hold ${bytes + 4} bytes`)
    manifest.weightsManifest[0]!.paths = ['folder.bin']
    await writeFile(modelJson, JSON.stringify(manifest))
    expect((await importError(loadTfjsLayersFiles(modelJson))).message).toMatch(/folder\.bin: weight shard listed in .* is not a file/)
  })
})
