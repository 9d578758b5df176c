/**
 * A data-parallel training worker (worker_threads): its own tfjs with its own wasm instance, a
 * replica of the model, one shard of every batch. Batch-norm statistics are summed with the other
 * workers through the shared buffer; each worker updates one slice of the weights and of the shared
 * momentum from everyone's gradients of that slice, and copies the other slices' new weights from
 * their owners (collective.ts). So the replicas stay identical and only worker 0 is ever read back.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { parentPort, workerData } from 'node:worker_threads'
import { selectBackend } from '../../backend/select-backend'
import { SimdKernels, simdKernelsFor, wasmKernelSet } from '../../backend/simd/simd-kernels'
import { BACKEND, heapF32 } from '../../backend/wasm-kernel-utils'
import type { ChannelSumReducer } from '../../models/synced-batch-norm'
import { lossAndGradients } from '../train-step'
import { Collective, CollectiveAbortedError } from './collective'
import { MOMENTUM_CHUNK, momentumUpdate, momentumUpdateWasm } from './momentum-update'
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol'
import { flatOffsets, forEachPiece } from './flat-ranges'
import { ENV } from '../../env'

const setup = workerData as WorkerSetup
const port = parentPort
if (!port) throw new Error('train-worker-entry must run as a worker thread')
const collective = new Collective(setup.buffer, setup.layout, setup.rank)
/** The optimizer's momentum of every trainable value, shared; this worker writes its own slice only. */
const sharedVelocity = new Float32Array(setup.velocity)

interface Replica {
  model: tf.LayersModel
  variables: tf.Variable[]
  /** Where each trainable variable starts among the flattened trainable values (flat-ranges.ts). */
  offsets: number[]
  /** The same for every weight of the model (`model.weights` order), for loading and reading them. */
  weightOffsets: number[]
  momentum: number
  useNesterov: boolean
  shape: { size: number; numClasses: number }
  weightDecay: number
}
let replica: Replica | undefined

/** `WORKBENCH_PROFILE_WORKERS=1`: each worker prints where its step time went when it closes. */
const profile = process.env[ENV.profileWorkers] === '1' ? { steps: 0, images: 0, gradients: 0, waitedInBatchNorm: 0, waitForGradients: 0, update: 0 } : undefined

function printProfile(): void {
  if (!profile) return
  const per = (ms: number): string => (ms / Math.max(1, profile.steps)).toFixed(1)
  process.stderr.write(
    `worker ${setup.rank}: ${profile.steps} steps, ${per(profile.images)} images per step, ms per step: forward+backward ${per(profile.gradients)} (of which waiting in batch norm ${per(profile.waitedInBatchNorm)}), ` +
      `update (gradients exchanged, own slice updated, the others' slices copied) ${per(profile.update)}, of which waiting for the others ${per(profile.waitForGradients)}\n`
  )
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer)
}

const onWasm = (): boolean => tf.getBackend() === BACKEND

/**
 * The topology with every initializer replaced by zeros: the coordinator's weights overwrite them at
 * once, and the seeded random initializers would first fill arrays in JS (at width 1, 107 MB of
 * garbage per worker that may still be resident at the step's peak).
 */
function withZeroInitializers(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(withZeroInitializers)
  if (json === null || typeof json !== 'object') return json
  return Object.fromEntries(
    Object.entries(json).map(([key, value]) => [key, key.endsWith('_initializer') && value !== null && typeof value === 'object' ? { class_name: 'Zeros', config: {} } : withZeroInitializers(value)])
  )
}

async function init(message: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  await selectBackend(setup.backend)
  const model = await tf.models.modelFromJSON({ modelTopology: withZeroInitializers(message.topology) } as tf.io.ModelJSON)
  if (model.weights.length !== message.weightCount) throw new Error(`worker ${setup.rank}: the model has ${model.weights.length} weights, the coordinator ${message.weightCount}`)
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const elements = variables.reduce((n, v) => n + v.size, 0)
  if (elements !== setup.layout.gradientElements) throw new Error(`worker ${setup.rank}: the model has ${elements} trainable values, the coordinator expected ${setup.layout.gradientElements}`)
  replica = {
    model,
    variables,
    offsets: flatOffsets(variables.map((v) => v.size)),
    weightOffsets: flatOffsets(model.weights.map((w) => w.read().size)),
    momentum: message.momentum,
    useNesterov: message.useNesterov,
    shape: { size: message.size, numClasses: message.numClasses },
    weightDecay: message.weightDecay
  }
}

/**
 * Copies values [from, to) of the weights laid end to end from the exchange area into the weights
 * (`load`), or the other way. Loading writes in place: it runs before the first step, before any
 * kernel has cached anything of the weights' buffers.
 */
function streamWeights(from: number, to: number, load: boolean): void {
  const r = replica
  if (!r) throw new Error('weights moved before init')
  const total = r.weightOffsets[r.weightOffsets.length - 1] as number
  if (!(from >= 0 && from <= to && to <= total && to - from <= collective.area.length)) throw new RangeError(`worker ${setup.rank}: weight values [${from}, ${to}) are not within the ${total} values or do not fit the exchange area`)
  const area = collective.area
  forEachPiece(r.weightOffsets, from, to, (i, at, n, flat) => {
    const weight = (r.model.weights[i] as tf.LayerVariable).read()
    const values = piece(onWasm() ? weight : (weight.dataSync() as Float32Array), at, n)
    if (load) values.set(area.subarray(flat - from, flat - from + n))
    else area.set(values, flat - from)
  })
}

/** The values of a tensor's piece, as a view (wasm memory, or the cpu backend's own array). */
function piece(t: tf.TensorInfo | Float32Array, at: number, n: number): Float32Array {
  if (t instanceof Float32Array) return t.subarray(at, at + n)
  return heapF32(tf.backend() as BackendWasm, t).subarray(at, at + n)
}

/** Which gradients hold their buffer alone (no other tensor shares it), so it can take new weights. */
function ownedBuffers(backend: BackendWasm, gradients: tf.Tensor[]): boolean[] {
  const seen = new Set<unknown>()
  return gradients.map((g) => {
    const alone = g.dtype === 'float32' && backend.refCount(g.dataId) === 1 && !seen.has(g.dataId)
    seen.add(g.dataId)
    return alone
  })
}

/**
 * The SGD step after the backward pass, in rounds of two barriers (collective.ts): leave this
 * worker's gradients of a round of the other slices in the exchange area; update that round of its
 * own slice (weights and shared momentum) from its gradients and the others', leaving the new weights
 * there; then copy the others' new weights. Every variable gets a new buffer (wasm caches each
 * convolution's packed weights by buffer, so one changed in place would keep serving the old ones).
 */
function update(r: Replica, grads: tf.NamedTensorMap, lr: number): void {
  const rank = setup.rank
  const workers = collective.workers
  const settings = { lr, momentum: r.momentum, useNesterov: r.useNesterov, weightDecay: r.weightDecay }
  const backend = onWasm() ? (tf.backend() as BackendWasm) : undefined
  const simd = backend ? simdKernelsFor(backend) : undefined
  const gradients = r.variables.map((v) => grads[v.name] as tf.Tensor)
  // The new weights go where the gradients are: each round's gradients are read (copied out for the
  // others, summed into the own slice's update) before that round writes new weights over them, and a
  // gradient's buffer was never a convolution's cached filter. So the update needs no second copy of
  // the model (107 MB at width 1) and wasm memory stays as it was. A gradient whose buffer other
  // tensors share gets a new one. Every new buffer first: no allocation may happen while views of
  // wasm memory are in use below.
  const owned = backend ? ownedBuffers(backend, gradients) : []
  const next: (tf.TensorInfo | Float32Array)[] = r.variables.map((v, i) => (backend ? (owned[i] ? (gradients[i] as tf.Tensor) : backend.makeOutput(v.shape, 'float32')) : new Float32Array(v.size)))
  if (simd) simd.scratch(3 * 4 * MOMENTUM_CHUNK)
  // On the cpu backend: the weights' and gradients' arrays (dataSync returns them, not copies).
  const cpuWeights = backend ? [] : r.variables.map((v) => v.dataSync() as Float32Array)
  const cpuGrads = backend ? [] : gradients.map((g) => g.dataSync() as Float32Array)
  const own = r.offsets
  for (let round = 0; round < collective.rounds; round++) {
    for (let owner = 0; owner < workers; owner++) {
      if (owner === rank) continue
      const [lo, hi] = collective.roundRange(owner, round)
      const area = collective.contribution(owner, rank)
      forEachPiece(own, lo, hi, (i, at, n, flat) => area.set(backend ? piece(gradients[i] as tf.Tensor, at, n) : (cpuGrads[i] as Float32Array).subarray(at, at + n), flat - lo))
    }
    collective.barrier()
    const [lo, hi] = collective.roundRange(rank, round)
    const out = collective.updated(rank)
    forEachPiece(own, lo, hi, (i, at, n, flat) => {
      const v = r.variables[i] as tf.Variable
      const others = Array.from({ length: workers }, (_, from) => from)
        .filter((from) => from !== rank)
        .map((from) => collective.contribution(rank, from).subarray(flat - lo, flat - lo + n))
      const velocity = sharedVelocity.subarray(flat, flat + n)
      const target = next[i] as tf.TensorInfo | Float32Array
      if (simd && backend) {
        const grad = SimdKernels.offsetOf(backend, gradients[i] as tf.Tensor) + 4 * at
        momentumUpdateWasm(simd, others, 0, SimdKernels.offsetOf(backend, v) + 4 * at, SimdKernels.offsetOf(backend, target as tf.TensorInfo) + 4 * at, n, velocity, settings, grad)
      } else if (backend) {
        momentumUpdate([piece(gradients[i] as tf.Tensor, at, n), ...others], 0, piece(v, at, n), piece(target, at, n), velocity, settings)
      } else {
        momentumUpdate([(cpuGrads[i] as Float32Array).subarray(at, at + n), ...others], 0, (cpuWeights[i] as Float32Array).subarray(at, at + n), piece(target, at, n), velocity, settings)
      }
      if (workers > 1) out.set(piece(target, at, n), flat - lo)
    })
    collective.barrier()
    for (let owner = 0; owner < workers; owner++) {
      if (owner === rank) continue
      const [from, to] = collective.roundRange(owner, round)
      const theirs = collective.updated(owner)
      forEachPiece(own, from, to, (i, at, n, flat) => piece(next[i] as tf.TensorInfo | Float32Array, at, n).set(theirs.subarray(flat - from, flat - from + n)))
    }
  }
  r.variables.forEach((v, i) => {
    const values = next[i] as tf.TensorInfo | Float32Array
    // A reused gradient is already a tensor (the step's tidy disposes it; the variable keeps its buffer).
    if (owned[i]) return v.assign(values as tf.Tensor)
    const tensor = values instanceof Float32Array ? tf.tensor(values, v.shape, 'float32') : tf.engine().makeTensorFromTensorInfo(values)
    v.assign(tensor)
    tensor.dispose()
  })
  // No worker may write the next step's gradients while another still reads this round's weights.
  collective.barrier()
}

function step(message: Extract<ToWorker, { type: 'step' }>): { loss: number; correct: number; busyMs: number } {
  const r = replica
  if (!r) throw new Error('step before init')
  // A stand-in shard weighs nothing in the batch-norm sums (count included), the loss and the gradients.
  const reducer: ChannelSumReducer = { allReduceSmall: (v) => collective.allReduceSmall(v), shardWeight: message.weight }
  const t0 = performance.now()
  const waited = collective.waitedMs
  let busyMs = 0
  const [loss, correct] = tf.tidy(() => {
    const shard = lossAndGradients(r.model, r.variables, message, r.shape, { lossScale: (message.weight * message.count) / message.total, reducer })
    const t1 = performance.now()
    busyMs = t1 - t0 - (collective.waitedMs - waited)
    const waitedBefore = collective.waitedMs
    update(r, shard.grads, message.lr)
    if (profile) {
      const t4 = performance.now()
      profile.steps++
      profile.images += message.weight * message.count
      profile.gradients += t1 - t0
      profile.waitedInBatchNorm += waitedBefore - waited
      profile.waitForGradients += collective.waitedMs - waitedBefore
      profile.update += t4 - t1
    }
    return [shard.loss, shard.correct]
  })
  const result = { loss: message.weight * (loss.dataSync()[0] as number), correct: message.weight * (correct.dataSync()[0] as number), busyMs }
  tf.dispose([loss, correct])
  return result
}

port.on('message', (message: ToWorker) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        await init(message)
        post({ type: 'ready', ...(onWasm() ? { kernels: wasmKernelSet() } : {}) })
      } else if (message.type === 'load-weights' || message.type === 'read-weights') {
        streamWeights(message.from, message.to, message.type === 'load-weights')
        post({ type: 'ready' })
      } else if (message.type === 'step') {
        post({ type: 'stepped', ...step(message) })
      } else if (message.type === 'close') {
        printProfile()
        process.exit(0)
      }
    } catch (error) {
      // Wake the other workers (they throw too) instead of leaving them at a barrier.
      collective.abort()
      const byPeer = error instanceof CollectiveAbortedError && error.byPeer
      post({ type: 'error', message: (error as Error).message ?? String(error), stack: (error as Error).stack, byPeer })
    }
  })()
})
