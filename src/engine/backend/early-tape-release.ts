import * as tf from '@tensorflow/tfjs'

/**
 * Frees what the backward pass no longer needs as soon as it is done with it, instead of at its end.
 *
 * tfjs 4.22's engine.gradients keeps every tensor a kernel saved for its gradient (conv inputs,
 * batch-norm inputs, ReLU outputs …) and every intermediate gradient (dy of each activation) until
 * the whole backward pass has finished: so at its end the memory holds all activations, all their
 * gradients and all weight gradients at once. Walking the tape backwards, a node's saved tensors
 * and the gradients of its outputs are read by that node only; once each of its inputs' gradient
 * has been computed they are dead. Freeing them then lowers a data-parallel worker's peak at width 1,
 * batch 64 from 665 to 554 MB (wasm memory never shrinks, so the peak is what stays resident).
 * The gradients are bit for bit the same (test/engine/backend/early-tape-release.test.ts).
 *
 * What a node does not free: a tensor its gradient function handed back as an input's gradient
 * (passed through, or a saved tensor: it is now that input's gradient, freed in turn by the input's
 * own producer). Never freed early: a tensor handed back for two inputs (two entries hold it), the
 * caller's own `dy`, variables and kept tensors; and nothing at all in nested gradients (the engine
 * itself keeps saved tensors there, for the outer pass).
 */

interface TapeNode {
  inputs: Record<string, tf.Tensor>
  saved?: tf.Tensor[]
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number }
  addTapeNode(...args: unknown[]): void
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): unknown
  [INSTALLED]?: true
}

const INSTALLED = Symbol('early tape release')

let enabled = true

/** Turns the early release off and on again (installed or not): for comparisons in tests and benches. */
export function setEarlyTapeRelease(on: boolean): void {
  enabled = on
}

/** Installs the early release on tfjs's engine (once per engine; every backend benefits). */
export function installEarlyTapeRelease(): void {
  const engine = tf.engine() as unknown as EngineInternals
  if (engine[INSTALLED]) return
  engine[INSTALLED] = true

  // The caller's dy of the pass under way: it enters the tape's gradient map for the result and
  // belongs to the caller.
  let callerDy: tf.Tensor | undefined
  const gradients = engine.gradients.bind(engine)
  engine.gradients = (f, xs, dy, allowNoGradients) => {
    const outer = callerDy
    callerDy = dy
    try {
      return gradients(f, xs, dy, allowNoGradients)
    } finally {
      callerDy = outer
    }
  }

  const addTapeNode = engine.addTapeNode.bind(engine)
  engine.addTapeNode = (...args: unknown[]) => {
    addTapeNode(...args)
    const tape = engine.state.activeTape
    const node = tape?.[tape.length - 1]
    const gradient = node?.gradient
    if (!node || !gradient) return
    node.gradient = (dys) => {
      const thunks = gradient(dys)
      if (!enabled || engine.state.gradientDepth !== 0) return thunks
      // backpropagateGradients calls the thunk of every input of the (filtered) node, once each.
      const inputs = new Set(Object.keys(node.inputs))
      const handedBack = new Set<tf.Tensor>()
      const wrapped: Record<string, () => tf.Tensor> = {}
      for (const [name, thunk] of Object.entries(thunks)) {
        wrapped[name] = () => {
          const dx = thunk()
          // The same tensor for two inputs: two gradient entries hold it, so no one may free it early.
          if (handedBack.has(dx)) keepToTheEnd.add(dx)
          handedBack.add(dx)
          if (inputs.delete(name) && inputs.size === 0) release(node, dys, handedBack)
          return dx
        }
      }
      return wrapped
    }
  }

  /** Tensors that must live to the end of the pass (the engine frees them with the pass's tidy). */
  const keepToTheEnd = new WeakSet<tf.Tensor>()
  const mayFree = (t: tf.Tensor | null | undefined, handedBack: Set<tf.Tensor>): t is tf.Tensor =>
    t != null && !t.isDisposed && !handedBack.has(t) && !keepToTheEnd.has(t) && t !== callerDy && !t.kept && !(t instanceof tf.Variable)

  function release(node: TapeNode, dys: (tf.Tensor | null)[], handedBack: Set<tf.Tensor>): void {
    for (const t of node.saved ?? []) {
      // Saved tensors are kept clones: the engine's own end-of-pass loop disposes them the same way.
      if (t != null && !t.isDisposed && !handedBack.has(t) && !keepToTheEnd.has(t)) t.dispose()
    }
    for (const dy of dys) if (mayFree(dy, handedBack)) dy.dispose()
  }
}
