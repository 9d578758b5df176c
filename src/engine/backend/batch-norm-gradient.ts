import * as tf from '@tensorflow/tfjs'

/**
 * Replaces tfjs-core's FusedBatchNorm gradient with the same mathematics minus its `tile`: core
 * tiles 1/√(var+ε) to the activation's full shape before multiplying, where a broadcast multiply
 * gives the same numbers. On the wasm backend that Tile was 15% of a VGG11-BN training step
 * (bench/profile-step.ts, width ¼). Gradients are global in tfjs, so this applies to every backend.
 */
export function registerBatchNormGradient(): void {
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number }
      const [x, mean, variance, scale] = saved
      const dyTensor = dy as tf.Tensor
      const scaleValue = scale == null ? tf.scalar(1) : scale
      const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape)
      const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape)
      const xMinusMean = tf.sub(x, mean)
      const dyTimesScale = tf.mul(dyTensor, scaleValue)
      const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)))
      return {
        // Broadcasting a per-channel vector against NHWC needs no tile.
        x: () => tf.reshape(tf.mul(dyTensor, tf.mul(rstd, scaleValue)), x.shape),
        mean: () => reduce(tf.mul(tf.neg(rstd), dyTimesScale)),
        variance: () => reduce(tf.mul(tf.mul(tf.mul(tf.mul(rstd, rstd), rstd), tf.scalar(-0.5)), tf.mul(xMinusMean, dyTimesScale))),
        scale: () => reduce(tf.mul(dyTensor, tf.mul(xMinusMean, rstd))),
        offset: () => reduce(dyTensor)
      }
    }
  })
}
