import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { lossAndGradients } from '../src/engine/train/train-step'
await selectBackend('wasm')
const width = Number(process.argv[2] ?? 0.25)
const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: 10, seed: 1 })
const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
const batchSize = 32
const batch = { x: Float32Array.from({ length: batchSize * 3072 }, () => Math.random() * 2 - 1), labels: Int32Array.from({ length: batchSize }, (_, i) => i % 10), count: batchSize }
const oneWorker = { allReduceSmall: (v: ArrayLike<number>) => Float64Array.from(v) }
const step = () => { const grads = tf.tidy(() => { const s = lossAndGradients(model, variables, batch, { size: 32, numClasses: 10 }, { lossScale: 0.5, reducer: oneWorker }); s.correct.dispose(); return Object.values(s.grads) }); tf.dispose(grads) }
for (let i = 0; i < 3; i++) step()
const N = Number(process.argv[3] ?? 40)
const t = performance.now()
for (let i = 0; i < N; i++) step()
console.log('ms/step', ((performance.now() - t) / N).toFixed(1))
