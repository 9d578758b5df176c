import * as tf from '@tensorflow/tfjs'
import { describe } from 'vitest'
import { findWebGpuAdapter } from '../../../src/engine/backend/webgpu'

/**
 * Shared by the webgpu-*.test.ts files. They run tfjs's WebGPU backend on whatever Vulkan driver the
 * machine has — in CI a software one (Mesa's lavapipe, or Chromium's SwiftShader): the numbers are
 * the GPU kernels' numbers, at CPU speed. Where Dawn finds no adapter at all, every test skips and
 * says why. Each file forces webgpu itself (`selectBackend('webgpu')`), whatever WORKBENCH_BACKEND
 * the suite runs under (CI exports wasm).
 */

const probe = await findWebGpuAdapter({ allowSoftware: true })

/** The adapter's description, or undefined where there is none. */
export const webGpuAdapter: string | undefined = probe.ok ? probe.adapter.description : undefined

/** Why the tests skip, in the words the test names and the console line use. */
const missing = probe.ok ? undefined : `${probe.problem.code === 'no-webgpu-adapter' ? 'no Vulkan driver' : 'no WebGPU'} (${probe.problem.message})`

if (missing) console.log(`${missing.replace(' (', ': webgpu tests skipped (')}`)

/** A describe that runs only where a WebGPU adapter exists, and says so in its name where not. */
export function describeWebGpu(title: string, body: () => void): void {
  if (probe.ok) describe(`${title} [${probe.adapter.description}]`, body)
  else describe.skip(`${title} — skipped: ${missing}`, body)
}

/** Largest |a − b| over all elements. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
  return d
}

/** Largest |x|, at least `floor`. */
export function maxAbs(a: ArrayLike<number>, floor = 0): number {
  let m = floor
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]))
  return m
}

/** max |webgpu − cpu| / max(|cpu|, floor): the error relative to the output's own scale. */
export function relativeError(cpu: ArrayLike<number>, gpu: ArrayLike<number>, floor = 0): number {
  return maxAbsDiff(cpu, gpu) / (maxAbs(cpu, floor) || 1)
}

/** Reads tensors the only way that works on webgpu in Node: `await data()`. */
export async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  return (await Promise.all(tensors.map((t) => t.data()))).map((v) => Float32Array.from(v as ArrayLike<number>))
}

/**
 * Runs `fn` on a tfjs backend (switching to it first) and reads its outputs; inputs must be created
 * inside `fn`, so each backend computes from its own tensors. Leaves `backend` active.
 */
export async function onBackend(backend: 'cpu' | 'webgpu', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`could not switch tfjs to '${backend}'`)
  const outputs = tf.tidy(() => {
    const out = fn()
    return Array.isArray(out) ? out : [out]
  })
  const values = await readAll(outputs)
  tf.dispose(outputs)
  return values
}

interface WebGpuBackendInternals {
  readSync(dataId: object): unknown
  tensorMap: { get(dataId: object): { values?: unknown } | undefined }
}

/**
 * Records every synchronous read of a GPU-resident tensor (dataSync, arraySync, bufferSync, a
 * tensor moved to another backend): on webgpu in Node it throws ("OffscreenCanvas is not defined"),
 * and a caller could swallow that. Reads of data the backend still holds on the CPU (small tensors
 * tfjs computes there) work and are not recorded. Returns the stacks of the recorded reads.
 */
export function watchGpuSyncReads(): { reads: string[]; stop(): void } {
  const backend = tf.findBackend('webgpu') as unknown as WebGpuBackendInternals | null
  if (!backend) throw new Error('the webgpu backend is not initialized')
  const reads: string[] = []
  const original = backend.readSync
  backend.readSync = function (this: WebGpuBackendInternals, dataId: object) {
    if (backend.tensorMap.get(dataId)?.values == null) reads.push(new Error('synchronous GPU read').stack ?? '')
    return original.call(this, dataId)
  }
  return { reads, stop: () => void (backend.readSync = original) }
}
