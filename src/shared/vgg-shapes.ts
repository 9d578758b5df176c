/**
 * What each layer of a VGG holds, as Netron shows it on hover: the output shape and the parameter
 * count, derived from the one cfg walk in ./vgg (listNetworkElements) for a width, input size and
 * class count. The builder (engine/models/build-vgg.ts) makes exactly this network; a unit test checks
 * these counts against a real tfjs model's. Plain TypeScript: no Node, no tfjs.
 */
import { archDepth, listNetworkElements } from './vgg'

/** Shape and size of one element of the network (a weight layer with its batch norm, or a pool). */
export interface LayerFacts {
  name: string
  /** Output shape without the batch axis: [height, width, channels] after a conv or pool, [units] after a dense layer. */
  outputShape: number[]
  /** Trainable parameters of the weight layer (kernel + bias), plus batch norm's scale and shift when it has one. */
  trainable: number
  /** Batch norm's running mean and variance: stored with the weights, not trained. */
  nonTrainable: number
}

/**
 * Facts for every element of the network, input to output, keyed by element name. `classes` sets
 * the predictions layer's units (it depends on the task: the target group's size).
 */
export function describeNetwork(arch: string, options: { width?: number; inputSize?: number; classes: number }): Map<string, LayerFacts> {
  const depth = archDepth(arch)
  const out = new Map<string, LayerFacts>()
  if (!depth) return out
  const batchNorm = arch.endsWith('_bn')
  const width = options.width ?? 1
  let side = options.inputSize ?? 32
  let channels = 3
  let flat: number | null = null
  for (const element of listNetworkElements(arch, width)) {
    if (element.type === 'pool') {
      side = Math.floor(side / 2)
      out.set(element.name, { name: element.name, outputShape: [side, side, channels], trainable: 0, nonTrainable: 0 })
      continue
    }
    if (element.kind === 'conv') {
      const units = element.units
      // 3×3 kernel over every input channel, one bias per filter; BN adds gamma and beta (trained) and moving mean and variance (not).
      const trainable = 9 * channels * units + units + (batchNorm ? 2 * units : 0)
      out.set(element.name, { name: element.name, outputShape: [side, side, units], trainable, nonTrainable: batchNorm ? 2 * units : 0 })
      channels = units
      continue
    }
    const inputs = flat ?? side * side * channels
    const units = element.name === 'predictions' ? options.classes : element.units
    out.set(element.name, { name: element.name, outputShape: [units], trainable: inputs * units + units, nonTrainable: 0 })
    flat = units
  }
  return out
}

/** "16×16×32" or "4096". */
export function formatShape(shape: readonly number[]): string {
  return shape.join('×')
}
