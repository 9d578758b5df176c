import * as tf from '@tensorflow/tfjs'
import type { Stepper, StepResult } from './parallel/data-parallel'
import { applyUpdate, lossAndGradients, type StepBatch, type StepShape } from './train-step'

/**
 * Training in this thread, on whatever backend this process runs (WebGPU, tfjs-node, or wasm with one
 * worker): weights, gradients and each batch's loss stay in the backend's memory. The summed loss and
 * correct count of the steps since the last read stay in two scalars there and come back in one readback
 * when the caller asks (the trainer asks at its logged batches). On a GPU that spares a stall per batch
 * to hand two numbers to the CPU; on the CPU it costs nothing.
 */
export function createSingleThreadStepper(options: { model: tf.LayersModel; optimizer: tf.MomentumOptimizer; shape: StepShape; weightDecay: number }): Stepper {
  const { model, optimizer, shape, weightDecay } = options
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  // Sum over the steps not read yet of (mean loss × images) and of correct predictions.
  let lossSum = tf.scalar(0)
  let correctSum = tf.scalar(0)
  let images = 0
  return {
    workers: 1,
    async step(batch: StepBatch, lr: number, read = true): Promise<StepResult> {
      optimizer.setLearningRate(lr)
      const [nextLoss, nextCorrect] = tf.tidy(() => {
        const step = lossAndGradients(model, variables, batch, shape)
        applyUpdate(optimizer, variables, step.grads, weightDecay)
        const sums = [tf.add(lossSum, tf.mul(step.loss, batch.count)), tf.add(correctSum, step.correct)] as tf.Scalar[]
        step.correct.dispose()
        return sums
      })
      tf.dispose([lossSum, correctSum])
      lossSum = nextLoss as tf.Scalar
      correctSum = nextCorrect as tf.Scalar
      images += batch.count
      if (!read) return { loss: NaN, correct: 0, images: 0 }
      const both = tf.stack([lossSum, correctSum])
      const [loss, correct] = Array.from(await both.data())
      both.dispose()
      const result = { loss: (loss as number) / images, correct: correct as number, images }
      tf.dispose([lossSum, correctSum])
      lossSum = tf.scalar(0)
      correctSum = tf.scalar(0)
      images = 0
      return result
    },
    sync: async () => undefined,
    dispose: async () => {
      tf.dispose([lossSum, correctSum])
    }
  }
}
