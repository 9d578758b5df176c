import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type { TensorInfo } from '@tensorflow/tfjs'
import { setFlagsFromString } from 'node:v8'
import type { WasmKernelSet } from '../../../shared/backend'
import { KERNELS_FMA_WASM_BASE64, KERNELS_WASM_BASE64, RELAXED_SIMD_PROBE_BASE64 } from './kernels-wasm'
import { ENV } from '../../env'

/** The functions kernels.wat exports; pointers are byte offsets into tfjs's wasm memory. */
interface KernelExports {
  channel_sums(x: number, positions: number, channels: number, out: number): void
  batch_norm_grad_sums(x: number, dy: number, mean: number, positions: number, channels: number, out: number): void
  add_into(dst: number, src: number, n: number): void
  momentum_step(w: number, g0: number, g1: number, v: number, out: number, n: number, lr: number, mu: number, wd: number, nesterov: number): void
  batch_norm_apply(x: number, mean: number, a: number, beta: number, out: number, positions: number, channels: number): void
  batch_norm_backward(x: number, dy: number, mean: number, g: number, h: number, k: number, out: number, positions: number, channels: number): void
  column_sums(x: number, positions: number, columns: number, out: number): void
  max_pool_2x2_grad(x: number, dy: number, dx: number, outRows: number, outWidth: number, channels: number): void
  conv_input_grad(dyp: number, wt: number, dx: number, n: number, h: number, w: number, c: number, hp: number, wp: number, o: number, fh: number, fw: number, shift: number, bias: number): void
  conv_filter_grad(x: number, dy: number, dw: number, n: number, h: number, w: number, c: number, oh: number, ow: number, o: number, fh: number, fw: number, top: number, left: number, chunkRows: number): void
  transpose(src: number, dst: number, rows: number, cols: number): void
  relu_grad(x: number, dy: number, dx: number, n: number): void
  widen_channels(src: number, dst: number, pixels: number, c: number, cp: number): void
  gather_runs8(src: number, stride: number, dst: number, count: number): void
  gather_runs8x4(src: number, stride: number, dst: number, count: number, panelBytes: number): void
}

/** The parts of the WebAssembly API used here (the node typings in use do not declare them). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: object }
  Memory: abstract new (...args: never[]) => WasmMemory
  validate(bytes: Uint8Array): boolean
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** What the workbench's JS needs of tfjs's emscripten module (not in its typings). */
interface EmscriptenModule {
  _malloc(bytes: number): number
  asm?: Record<string, unknown>
  wasmMemory?: WasmMemory
}

/**
 * The SIMD kernels of kernels.wat, bound to one tfjs wasm instance's memory, plus a grow-only
 * scratch area in that memory for their float64 sums and for operands copied in from outside it.
 */
export class SimdKernels {
  private scratchOffset = 0
  private scratchBytes = 0

  constructor(
    private readonly module: EmscriptenModule,
    private readonly memory: WasmMemory,
    readonly exports: KernelExports,
    /** Which build of kernels.wat these are: with fused multiply-adds (relaxed SIMD) or without. */
    readonly set: Exclude<WasmKernelSet, 'off'> = 'simd'
  ) {}

  /** The byte offset of a tensor's values in wasm memory. */
  static offsetOf(backend: BackendWasm, t: TensorInfo): number {
    const offset = backend.dataIdMap.get(t.dataId)?.memoryOffset
    if (offset == null) throw new Error('tensor is not in wasm memory')
    return offset
  }

  /** All of wasm memory as floats, as it is now (an allocation may replace the buffer). */
  heapF32(): Float32Array {
    return new Float32Array(this.memory.buffer)
  }

  /**
   * A scratch area of at least `bytes`, 16-byte aligned, valid until the next call. It is never
   * freed: it lives as long as the wasm instance, and grows to the largest request.
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      // The old area is leaked on purpose: it is small next to the tensors, and free() would need
      // another export; growth happens a handful of times per process.
      const raw = this.module._malloc(bytes + 16)
      if (raw === 0) throw new Error(`wasm memory: cannot allocate ${bytes} bytes of kernel scratch`)
      this.scratchOffset = (raw + 15) & ~15
      this.scratchBytes = bytes
    }
    return this.scratchOffset
  }

  /** [Σx per channel…, Σx² per channel…] in float64 over `positions` rows of `channels` (a multiple of 4). */
  channelSums(x: number, positions: number, channels: number): Float64Array {
    const out = this.zeroedSums(channels)
    this.exports.channel_sums(x, positions, channels, out)
    return Float64Array.from(new Float64Array(this.memory.buffer, out, 2 * channels))
  }

  /** Σx per column in float64, over `positions` rows of `columns` (a multiple of 4). */
  columnSums(x: number, positions: number, columns: number): Float64Array {
    const out = this.scratch(8 * columns)
    new Float64Array(this.memory.buffer, out, columns).fill(0)
    this.exports.column_sums(x, positions, columns, out)
    return Float64Array.from(new Float64Array(this.memory.buffer, out, columns))
  }

  /** [Σdy per channel…, Σdy·(x − mean) per channel…] in float64; `mean` holds `channels` float32 values. */
  batchNormGradSums(x: number, dy: number, mean: number, positions: number, channels: number): Float64Array {
    const out = this.zeroedSums(channels)
    this.exports.batch_norm_grad_sums(x, dy, mean, positions, channels, out)
    return Float64Array.from(new Float64Array(this.memory.buffer, out, 2 * channels))
  }

  /** out = (x − mean)·a + beta per channel, over `positions` rows of `channels` (a multiple of 4). */
  batchNormApply(x: number, out: number, positions: number, channels: number, mean: ArrayLike<number>, a: ArrayLike<number>, beta: ArrayLike<number>): void {
    const [m, av, b] = this.vectors(channels, mean, a, beta) as [number, number, number]
    this.exports.batch_norm_apply(x, m, av, b, out, positions, channels)
  }

  /** out = dy·g + (x − mean)·h + k per channel, over `positions` rows of `channels` (a multiple of 4). */
  batchNormBackward(
    x: number, dy: number, out: number, positions: number, channels: number,
    mean: ArrayLike<number>, g: ArrayLike<number>, h: ArrayLike<number>, k: ArrayLike<number>
  ): void {
    const [m, gv, hv, kv] = this.vectors(channels, mean, g, h, k) as [number, number, number, number]
    this.exports.batch_norm_backward(x, dy, m, gv, hv, kv, out, positions, channels)
  }

  /**
   * Packs the `columns` (a multiple of 8) of a [rows, stride] float32 matrix at byte offset `src` into
   * panels of 8 columns, [rows, 8] each, panel g at dst + g·panelBytes: the layout conv_input_grad
   * reads its filter in. Four panels per row visit where four remain (whole cache lines), else one.
   */
  packPanels8(src: number, stride: number, rows: number, columns: number, dst: number, panelBytes: number): void {
    for (let cb = 0; cb < columns; ) {
      const four = cb + 32 <= columns
      if (four) this.exports.gather_runs8x4(src + 4 * cb, stride, dst + (cb / 8) * panelBytes, rows, panelBytes)
      else this.exports.gather_runs8(src + 4 * cb, stride, dst + (cb / 8) * panelBytes, rows)
      cb += four ? 32 : 8
    }
  }

  /** Copies per-channel vectors into the scratch area as float32, one after another; returns their offsets. */
  private vectors(channels: number, ...values: ArrayLike<number>[]): number[] {
    const base = this.scratch(4 * channels * values.length)
    const heap = this.heapF32()
    return values.map((v, i) => {
      const offset = base + 4 * channels * i
      heap.set(v, offset / 4)
      return offset
    })
  }

  private zeroedSums(channels: number): number {
    const out = this.scratch(16 * channels)
    new Float64Array(this.memory.buffer, out, 2 * channels).fill(0)
    return out
  }
}

/** The kernels bound to each wasm backend, per build (null: that build cannot run there). */
const bound = new WeakMap<BackendWasm, Partial<Record<Exclude<WasmKernelSet, 'off'>, SimdKernels | null>>>()
/** Each build of kernels.wat, compiled once per thread (null: this runtime rejects it). */
const compiled: Partial<Record<Exclude<WasmKernelSet, 'off'>, object | null>> = {}
/** `WORKBENCH_WASM_SIMD=0` turns the SIMD kernels off (their JS or tfjs fallbacks run instead). */
let enabled = process.env[ENV.wasmSimd] !== '0'
/** `WORKBENCH_WASM_FMA=0` keeps to the kernels without fused multiply-adds where relaxed SIMD runs. */
let fmaEnabled = process.env[ENV.wasmFma] !== '0'
let relaxedSimd: boolean | undefined

/** Turns the SIMD kernels on or off for every backend, e.g. to time them against their fallbacks. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on
}

/** Lets the FMA build run where relaxed SIMD does (on), or keeps to the plain SIMD build (off): tests and benches compare the two. */
export function setFmaKernelsEnabled(on: boolean): void {
  fmaEnabled = on
}

/** V8 shipped relaxed SIMD in 11.4 (Chrome 114); before that it is behind a flag (Node 20 has V8 11.3). */
const RELAXED_SIMD_SHIPPED_IN_V8: [number, number] = [11, 4]

function v8Before([major, minor]: [number, number]): boolean {
  const [m = 0, n = 0] = (process.versions.v8 ?? '').split('.').map(Number)
  return m < major || (m === major && n < minor)
}

/**
 * Whether this runtime runs relaxed SIMD (f32x4.relaxed_madd), by validating and running a tiny probe
 * module once per thread. V8 has it on by default from Node 21 (Node 22, 24) and in Electron 45; Node 20
 * has it behind `--experimental-wasm-relaxed-simd`, which this sets when the probe fails there. V8's
 * flags are process-wide, so the flag then holds for every worker thread as well, and it is set before
 * the FMA build is compiled (the flag is read when a module is validated). Newer V8s are left alone:
 * they have it already, no longer know the flag (Node 24 prints an error), and may freeze their flags.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedSimd !== undefined) return relaxedSimd
  const probe = Buffer.from(RELAXED_SIMD_PROBE_BASE64, 'base64')
  if (!WASM.validate(probe) && v8Before(RELAXED_SIMD_SHIPPED_IN_V8)) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd')
    } catch {
      // No V8 flags here (not Node): the probe below fails and the plain SIMD build runs.
    }
  }
  relaxedSimd = false
  try {
    const instance = new WASM.Instance(new WASM.Module(probe), {})
    // 2·3 + 1, fused or not: a runtime that validates relaxed SIMD but computes it wrong is not used.
    relaxedSimd = (instance.exports as { probe(a: number, b: number, c: number): number }).probe(2, 3, 1) === 7
  } catch {
    // Still invalid: this runtime has no relaxed SIMD.
  }
  return relaxedSimd
}

function compiledBuild(set: Exclude<WasmKernelSet, 'off'>): object | null {
  let module = compiled[set]
  if (module === undefined) {
    try {
      module = new WASM.Module(Buffer.from(set === 'simd+fma' ? KERNELS_FMA_WASM_BASE64 : KERNELS_WASM_BASE64, 'base64'))
    } catch {
      module = null
    }
    compiled[set] = module
  }
  return module
}

/**
 * Which of the workbench's wasm kernels run in this thread: "simd+fma" (kernels.wat's FMA build, where
 * relaxed SIMD runs and WORKBENCH_WASM_FMA is not 0), "simd" (the plain SIMD build), or "off" (turned
 * off by WORKBENCH_WASM_SIMD=0, or a wasm without SIMD: the JS and tfjs fallbacks run). The training
 * workers inherit the environment and the V8 flags, so they run the same set. (tfjs's threaded build,
 * WORKBENCH_WASM_THREADS > 1, runs none of them in the trainer's own thread; see simdKernelsFor.)
 */
export function wasmKernelSet(): WasmKernelSet {
  if (!enabled || !compiledBuild('simd')) return 'off'
  return fmaEnabled && relaxedSimdSupported() && compiledBuild('simd+fma') ? 'simd+fma' : 'simd'
}

/**
 * The SIMD kernels for this wasm backend, in the set wasmKernelSet names, or undefined where they
 * cannot run: a wasm without SIMD, tfjs's threaded build, whose shared memory this module does not
 * declare, or when turned off. Callers then take their fallbacks (JS loops, or compositions of tfjs's
 * kernels), which compute the same results within float rounding; so do the two builds.
 */
export function simdKernelsFor(backend: BackendWasm): SimdKernels | undefined {
  const set = wasmKernelSet()
  if (set === 'off') return undefined
  let known = bound.get(backend)
  if (!known) bound.set(backend, (known = {}))
  const cached = known[set]
  if (cached !== undefined) return cached ?? undefined
  let kernels: SimdKernels | null = null
  const module = backend.wasm as unknown as EmscriptenModule
  const memory = module.wasmMemory ?? Object.values(module.asm ?? {}).find((v): v is WasmMemory => v instanceof WASM.Memory)
  const build = compiledBuild(set)
  if (memory && build && !(memory.buffer instanceof SharedArrayBuffer)) {
    const instance = new WASM.Instance(build, { env: { memory } })
    kernels = new SimdKernels(module, memory, instance.exports as unknown as KernelExports, set)
  }
  known[set] = kernels
  return kernels ?? undefined
}
