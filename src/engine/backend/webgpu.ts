import * as tf from '@tensorflow/tfjs'
import type { GpuAdapterInfo } from '../../shared/backend'
import { ENV } from '../env'

/**
 * tfjs's WebGPU backend on Dawn (npm `webgpu`, prebuilt `dawn.node` for Linux, macOS and Windows):
 * the GPU path that needs no CUDA, only the GPU's Vulkan, Metal or D3D12 driver. This module finds an
 * adapter, says in words what it is (or why there is none), and starts tfjs on it.
 *
 * Why not `import 'webgpu'` at the top: the package holds a native addon, optional at run time (a missing
 * platform build must fall back to wasm, not crash), and bundlers must leave it alone.
 */

/** The little of the WebGPU API this module touches (no DOM types in the engine's tsconfig). */
interface Adapter {
  /** Dawn (webgpu 0.6) reports `isFallbackAdapter` here, not on the adapter. */
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }
  readonly features: { has(name: string): boolean }
  readonly limits: Record<string, number>
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number | undefined> }): Promise<Device>
}
interface Device {
  readonly lost: Promise<{ reason: string; message: string }>
  destroy(): void
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<Adapter | null>
}
interface DawnModule {
  create(flags: string[]): Gpu
  globals: Record<string, unknown>
}

/** Why WebGPU is not used, in the words doctor and the UI print. */
export interface WebGpuProblem {
  code: 'webgpu-load-failed' | 'no-webgpu-adapter' | 'software-adapter' | 'webgpu-init-failed'
  message: string
  fix: string
  adapter?: GpuAdapterInfo
}

export type WebGpuOutcome = { ok: true; adapter: GpuAdapterInfo } | { ok: false; problem: WebGpuProblem }

// Software rasterizers that expose a WebGPU adapter: right answers, CPU speed.
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i

/** The adapter as doctor and run.json describe it; `software` marks CPU implementations of the API. */
export function describeAdapter(info: Adapter['info']): GpuAdapterInfo {
  const vendor = info?.vendor ?? ''
  const architecture = info?.architecture ?? ''
  const device = info?.device ?? ''
  const description = info?.description || [vendor, architecture, device].filter(Boolean).join(' ') || 'unknown adapter'
  const software = info?.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${vendor} ${architecture} ${device} ${description}`)
  return { vendor, architecture, device, description, software }
}

/** The name of a software adapter for messages (SwiftShader, llvmpipe …). */
function softwareName(adapter: GpuAdapterInfo): string {
  const text = `${adapter.description} ${adapter.architecture} ${adapter.vendor}`
  return SOFTWARE_ADAPTER.exec(text)?.[0] ?? adapter.description
}

/** The platform's native GPU API, as a user would look for its driver. */
function nativeApi(platform: NodeJS.Platform): { api: string; check: string } {
  if (platform === 'darwin') return { api: 'Metal', check: 'WebGPU needs macOS 11 or later and a Metal GPU' }
  if (platform === 'win32') return { api: 'D3D12', check: '`dxdiag` shows the driver and its version' }
  return { api: 'Vulkan', check: '`vulkaninfo --summary` (package vulkan-tools) should list your GPU' }
}

/** What to say when Dawn finds no adapter at all. */
export function noAdapterProblem(platform: NodeJS.Platform = process.platform): WebGpuProblem {
  const { api, check } = nativeApi(platform)
  const driver =
    platform === 'linux'
      ? "Install your GPU's Vulkan driver: NVIDIA's proprietary driver ships its Vulkan ICD; AMD and Intel use Mesa (RADV, ANV: package mesa-vulkan-drivers)"
      : `Install your GPU's ${api} driver`
  return { code: 'no-webgpu-adapter', message: `no ${api} driver found: Dawn found no GPU adapter.`, fix: `${driver}. ${check}.` }
}

let dawn: DawnModule | undefined
let instance: Gpu | undefined

async function loadDawn(): Promise<DawnModule> {
  // A variable specifier keeps bundlers from resolving the native package at build time.
  const specifier = 'webgpu'
  dawn ??= (await import(/* @vite-ignore */ specifier)) as DawnModule
  return dawn
}

/**
 * Looks for a WebGPU adapter without starting tfjs on it. A software adapter is reported (with
 * `software: true`) but is a problem unless `allowSoftware`: it computes the right numbers at CPU speed.
 */
export async function findWebGpuAdapter(options: { allowSoftware: boolean }): Promise<{ ok: true; adapter: GpuAdapterInfo; handle: Adapter; gpu: Gpu } | { ok: false; problem: WebGpuProblem }> {
  let module: DawnModule
  try {
    module = await loadDawn()
  } catch (error) {
    return {
      ok: false,
      problem: {
        code: 'webgpu-load-failed',
        message: `the webgpu package (Dawn for Node) did not load: ${firstLine(error)}`,
        fix: `It ships dawn.node for linux-x64/arm64, macOS and win32-x64/arm64 (this is ${process.platform}-${process.arch}); reinstall with \`npm install\`.`
      }
    }
  }
  // One instance per process, never released: see `held` below for what a collected one does.
  instance ??= module.create([])
  const gpu = instance
  const handle = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!handle) return { ok: false, problem: noAdapterProblem() }
  const adapter = describeAdapter(handle.info)
  if (adapter.software && !options.allowSoftware) {
    const name = softwareName(adapter)
    return {
      ok: false,
      problem: {
        code: 'software-adapter',
        message: `the only WebGPU adapter is a software one (${name}, "${adapter.description}"): not used unless forced, it runs at CPU speed.`,
        fix: `${noAdapterProblem().fix} To test WebGPU on it anyway, set ${ENV.backend}=webgpu.`,
        adapter
      }
    }
  }
  return { ok: true, adapter, handle, gpu }
}

// Held for the life of the process: a GPU instance or device that is garbage-collected takes Dawn's
// threads with it (seen here: the trainer aborted with "std::system_error: Invalid argument" a few
// batches into a run when only tfjs held the device).
let held: { gpu: Gpu; adapter: Adapter; device: Device } | undefined

/**
 * Starts tfjs's WebGPU backend on the adapter `findWebGpuAdapter` chose, with a device of our own, so
 * what doctor described is what trains. tfjs's own factory is replaced: it asks `navigator.gpu` for an
 * adapter itself, and when that fails `setBackend` returns false but leaves every op throwing.
 */
export async function startWebGpu(options: { allowSoftware: boolean }): Promise<WebGpuOutcome> {
  const found = await findWebGpuAdapter(options)
  if (!found.ok) return found
  const { handle, gpu, adapter } = found
  try {
    // GPUBufferUsage, GPUMapMode, GPUBuffer … are globals in a browser; tfjs's backend reads them from
    // globalThis (constants, and `instanceof GPUBuffer`).
    for (const [name, value] of Object.entries((dawn as DawnModule).globals)) (globalThis as Record<string, unknown>)[name] ??= value
    // The backend registers its kernels only if navigator.gpu exists when it is imported.
    installNavigatorGpu(gpu)
    const limits = handle.limits
    const device = await handle.requestDevice({
      requiredFeatures: handle.features.has('timestamp-query') ? ['timestamp-query'] : [],
      // As tfjs's own factory asks: the adapter's full limits, not WebGPU's small defaults.
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits['maxComputeWorkgroupStorageSize'],
        maxComputeWorkgroupsPerDimension: limits['maxComputeWorkgroupsPerDimension'],
        maxStorageBufferBindingSize: limits['maxStorageBufferBindingSize'],
        maxBufferSize: limits['maxBufferSize'],
        maxComputeWorkgroupSizeX: limits['maxComputeWorkgroupSizeX'],
        maxComputeInvocationsPerWorkgroup: limits['maxComputeInvocationsPerWorkgroup']
      }
    })
    held = { gpu, adapter: handle, device }
    void device.lost.then((lost) => {
      if (lost.reason !== 'destroyed') process.stderr.write(`webgpu: the GPU device was lost (${lost.reason}): ${lost.message}\n`)
    })
    const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend: new (device: Device, info: unknown) => tf.KernelBackend }
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
    tf.registerBackend('webgpu', () => new WebGPUBackend(device, handle.info), 3)
    if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') throw new Error(`tfjs stayed on '${tf.getBackend()}'`)
    await tf.ready()
  } catch (error) {
    // Leave no half-registered backend behind: tfjs would keep choosing it and every op would throw.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
    held?.device.destroy()
    held = undefined
    return {
      ok: false,
      problem: { code: 'webgpu-init-failed', message: `tfjs's WebGPU backend did not start on ${adapter.description}: ${firstLine(error)}`, fix: 'Update the GPU driver; meanwhile the workbench trains on the CPU.', adapter }
    }
  }
  return { ok: true, adapter }
}

/** Node 21+ has a `navigator` of its own, read-only as a global (keep it, add `gpu`); Node 20 has none. */
function installNavigatorGpu(gpu: Gpu): void {
  const g = globalThis as { navigator?: object }
  if (g.navigator == null) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true })
  Object.defineProperty(g.navigator as object, 'gpu', { value: gpu, configurable: true, writable: true })
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0] as string
}
