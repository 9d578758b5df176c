/**
 * A data-parallel training worker (worker_threads): its own tfjs with its own wasm instance, a
 * replica of the model and of the optimizer's momentum, one shard of every batch. Batch-norm
 * statistics and gradients are summed with the other workers through the shared buffer
 * (collective.ts); every replica then applies the same update, so the replicas stay identical and
 * only worker 0 is ever read back.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { parentPort, workerData } from 'node:worker_threads'
import { selectBackend } from '../../backend/select-backend'
import { SimdKernels, simdKernelsFor } from '../../backend/simd/simd-kernels'
import { BACKEND, heapF32 } from '../../backend/wasm-kernel-utils'
import type { ChannelSumReducer } from '../../models/synced-batch-norm'
import { lossAndGradients } from '../train-step'
import { Collective, CollectiveAbortedError } from './collective'
import { momentumUpdate, momentumUpdateWasm } from './momentum-update'
import type { FromWorker, ToWorker, WeightData, WorkerSetup } from './worker-protocol'
import { ENV } from '../../env'

const setup = workerData as WorkerSetup
const port = parentPort
if (!port) throw new Error('train-worker-entry must run as a worker thread')
const collective = new Collective(setup.buffer, setup.layout, setup.rank)

interface Replica {
  model: tf.LayersModel
  variables: tf.Variable[]
  /** The coordinator's names of the trainable variables, for the optimizer state it saves. */
  variableNames: string[]
  /** Momentum buffers, one per trainable variable (the optimizer's accumulators). */
  velocity: Float32Array[]
  iterations: number
  momentum: number
  useNesterov: boolean
  shape: { size: number; numClasses: number }
  weightDecay: number
}
let replica: Replica | undefined

/** `WORKBENCH_PROFILE_WORKERS=1`: each worker prints where its step time went when it closes. */
const profile = process.env[ENV.profileWorkers] === '1' ? { steps: 0, images: 0, gradients: 0, waitedInBatchNorm: 0, copyOut: 0, waitForGradients: 0, update: 0 } : undefined

function printProfile(): void {
  if (!profile) return
  const per = (ms: number): string => (ms / Math.max(1, profile.steps)).toFixed(1)
  process.stderr.write(
    `worker ${setup.rank}: ${profile.steps} steps, ${per(profile.images)} images per step, ms per step: forward+backward ${per(profile.gradients)} (of which waiting in batch norm ${per(profile.waitedInBatchNorm)}), ` +
      `gradients out ${per(profile.copyOut)}, waiting for the others' gradients ${per(profile.waitForGradients)}, update ${per(profile.update)}\n`
  )
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer)
}

const onWasm = (): boolean => tf.getBackend() === BACKEND

/** A tensor's values: a view of wasm memory (no copy; valid until the next allocation), or a copy. */
function values(t: tf.Tensor): Float32Array {
  return onWasm() ? heapF32(tf.backend() as BackendWasm, t) : (t.dataSync() as Float32Array)
}

async function init(message: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  await selectBackend(setup.backend)
  const model = await tf.models.modelFromJSON({ modelTopology: message.topology } as tf.io.ModelJSON)
  const weights = message.weights.map((w) => tf.tensor(w.data, w.shape, 'float32'))
  model.setWeights(weights)
  tf.dispose(weights)
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const elements = variables.reduce((n, v) => n + v.size, 0)
  if (elements !== setup.layout.gradientElements) throw new Error(`worker ${setup.rank}: the model has ${elements} trainable values, the coordinator expected ${setup.layout.gradientElements}`)
  // tfjs's MomentumOptimizer state: the iteration count, then one accumulator per variable in order
  // (none before its first step).
  const [iter, ...accumulators] = message.optimizerWeights
  const velocity = variables.map((v, i) => {
    const saved = accumulators[i]
    if (saved && saved.data.length !== v.size) throw new Error(`worker ${setup.rank}: momentum of ${message.variableNames[i]} has ${saved.data.length} values, the weight ${v.size}`)
    return saved ? Float32Array.from(saved.data) : new Float32Array(v.size)
  })
  replica = {
    model,
    variables,
    variableNames: message.variableNames,
    velocity,
    iterations: iter ? (iter.data[0] as number) : 0,
    momentum: message.momentum,
    useNesterov: message.useNesterov,
    shape: { size: message.size, numClasses: message.numClasses },
    weightDecay: message.weightDecay
  }
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
    const own = collective.ownGradients
    let offset = 0
    for (const v of r.variables) {
      own.set(values(shard.grads[v.name] as tf.Tensor), offset)
      offset += v.size
    }
    const t2 = performance.now()
    collective.barrier()
    const t3 = performance.now()
    const settings = { lr: message.lr, momentum: r.momentum, useNesterov: r.useNesterov, weightDecay: r.weightDecay }
    offset = 0
    r.variables.forEach((v, i) => {
      const velocity = r.velocity[i] as Float32Array
      if (onWasm()) {
        // Into a new buffer, not in place: wasm caches each convolution's packed weights by buffer,
        // and a buffer changed in place would keep serving the old ones.
        const backend = tf.backend() as BackendWasm
        const next = backend.makeOutput(v.shape, 'float32')
        const simd = simdKernelsFor(backend)
        if (simd) momentumUpdateWasm(simd, collective.regions, offset, SimdKernels.offsetOf(backend, v), SimdKernels.offsetOf(backend, next), v.size, velocity, settings)
        else momentumUpdate(collective.regions, offset, heapF32(backend, v), heapF32(backend, next), velocity, settings)
        const tensor = tf.engine().makeTensorFromTensorInfo(next)
        v.assign(tensor)
        tensor.dispose()
      } else {
        const w = Float32Array.from(v.dataSync() as Float32Array)
        momentumUpdate(collective.regions, offset, w, w, velocity, settings)
        v.assign(tf.tensor(w, v.shape, 'float32'))
      }
      offset += v.size
    })
    r.iterations++
    // No worker may write its next gradients while another still reads this step's.
    collective.barrier()
    if (profile) {
      const t4 = performance.now()
      profile.steps++
      profile.images += message.weight * message.count
      profile.gradients += t1 - t0
      profile.waitedInBatchNorm += collective.waitedMs - waited
      profile.copyOut += t2 - t1
      profile.waitForGradients += t3 - t2
      profile.update += t4 - t3
    }
    return [shard.loss, shard.correct]
  })
  const result = { loss: message.weight * (loss.dataSync()[0] as number), correct: message.weight * (correct.dataSync()[0] as number), busyMs }
  tf.dispose([loss, correct])
  return result
}

function readState(): FromWorker & { type: 'state' } {
  const r = replica
  if (!r) throw new Error('read-state before init')
  const weights: WeightData[] = r.model.weights.map((w) => {
    const value = w.read()
    return { name: w.originalName, shape: value.shape, data: Float32Array.from(value.dataSync() as Float32Array) }
  })
  const optimizerWeights: WeightData[] = [
    { name: 'iter', shape: [], data: Float32Array.of(r.iterations) },
    ...r.variables.map((v, i) => ({ name: `${r.variableNames[i]}/momentum`, shape: v.shape, data: Float32Array.from(r.velocity[i] as Float32Array) }))
  ]
  return { type: 'state', weights, optimizerWeights }
}

port.on('message', (message: ToWorker) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        await init(message)
        post({ type: 'ready' })
      } else if (message.type === 'step') {
        post({ type: 'stepped', ...step(message) })
      } else if (message.type === 'close') {
        printProfile()
        process.exit(0)
      } else {
        const state = readState()
        post(state, [...state.weights, ...state.optimizerWeights].map((w) => w.data.buffer as ArrayBuffer))
      }
    } catch (error) {
      // Wake the other workers (they throw too) instead of leaving them at a barrier.
      collective.abort()
      const byPeer = error instanceof CollectiveAbortedError && error.byPeer
      post({ type: 'error', message: (error as Error).message ?? String(error), stack: (error as Error).stack, byPeer })
    }
  })()
})
