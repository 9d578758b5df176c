import * as tf from '@tensorflow/tfjs'
import type { Stepper, StepResult } from './parallel/data-parallel'
import { applyUpdate, lossAndGradients, type StepBatch, type StepShape } from './train-step'

/**
 * The stepper for a GPU backend (WebGPU): weights, gradients and the batch's loss stay on the device.
 * Each step only queues work; the summed loss and correct count of the steps since the last read stay
 * in two device scalars and come back in one readback when the caller asks (the trainer asks at its
 * logged batches), so the GPU is not stopped every batch to hand two numbers to the CPU.
 */
export function createDeviceStepper(options: { model: tf.LayersModel; optimizer: tf.MomentumOptimizer; shape: StepShape; weightDecay: number }): Stepper {
  const { model, optimizer, shape, weightDecay } = options
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  // Sum over the steps not read yet of (mean loss × images) and of correct predictions.
  let lossSum: tf.Scalar = tf.keep(tf.scalar(0))
  let correctSum: tf.Scalar = tf.keep(tf.scalar(0))
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
      lossSum = tf.keep(tf.scalar(0))
      correctSum = tf.keep(tf.scalar(0))
      images = 0
      return result
    },
    sync: async () => undefined,
    dispose: async () => {
      tf.dispose([lossSum, correctSum])
    }
  }
}
