import * as tf from '@tensorflow/tfjs'

/**
 * Saves the tensors a kernel keeps for its gradient without a recorded op per tensor.
 *
 * tfjs 4.22's engine saves each of them as `keep(clone(t))`, and `clone` runs the Identity kernel
 * through the whole engine and adds a tape node of its own, besides the one the engine adds for the
 * Identity kernel: a VGG11-BN training step saves 151 tensors, so 151 engine ops and 302 tape nodes
 * that the backward pass then filters out again, a few milliseconds of JS in every width-¼ step.
 * Here the backend's own Identity kernel makes the copy (on wasm, wasm-identity.ts: a shared buffer)
 * and the engine only tracks it, as it tracks any kernel's output.
 *
 * Only while one gradient is being recorded (gradient depth 1): under an outer gradient (a gradient
 * of a gradient), the saved tensors are the outer pass's inputs, and the clone's tape node is what
 * carries the outer gradient back to the original.
 */

interface EngineInternals {
  state: { gradientDepth: number }
  backend: object
  backendName: string
  keep<T extends tf.Tensor>(t: T): T
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend: object): tf.Tensor
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[]
  [INSTALLED]?: true
}

const INSTALLED = Symbol('light saves')

let enabled = true

/** Turns the light saves off and on again (installed or not): for comparisons in tests and benches. */
export function setLightSaves(on: boolean): void {
  enabled = on
}

/** Installs the light saves on tfjs's engine (once per engine; every backend's Identity kernel serves). */
export function installLightSaves(): void {
  const engine = tf.engine() as unknown as EngineInternals
  if (engine[INSTALLED]) return
  engine[INSTALLED] = true
  const save = engine.saveTensorsForBackwardMode.bind(engine)
  engine.saveTensorsForBackwardMode = (tensors) => {
    if (!enabled || engine.state.gradientDepth !== 1) return save(tensors)
    const identity = tf.getKernel('Identity', engine.backendName)
    if (!identity) return save(tensors)
    const backend = engine.backend
    return tensors.map((x) => {
      const info = identity.kernelFunc({ inputs: { x }, backend: backend as tf.KernelBackend, attrs: {} }) as tf.TensorInfo
      return engine.keep(engine.makeTensorFromTensorInfo(info, backend))
    })
  }
}
