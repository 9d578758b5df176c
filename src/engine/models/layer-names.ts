import { VGG_CFGS, type VggDepth } from './vgg-config'

/** One weight layer of a VGG, in input-to-output order. */
export interface WeightLayerInfo {
  /** 1-based position among weight layers: transfer depth n copies layers 1…n. */
  index: number
  /** Keras name: `block1_conv1`…, `fc1`, `fc2`, `predictions`. */
  name: string
  kind: 'conv' | 'dense'
  /** Conv block (1-based) for convs; undefined for dense layers. */
  block?: number
  /** Output channels / units at width 1 (the output layer reports 0: it depends on the task). */
  units: number
}

/** Keras-style names for the conv layers of one block: block{b}_conv{i}. */
export function convLayerName(block: number, indexInBlock: number): string {
  return `block${block}_conv${indexInBlock}`
}

/** Keras-style name of the pool closing block b. */
export function poolLayerName(block: number): string {
  return `block${block}_pool`
}

/**
 * Lists the weight layers of a VGG in order, without building it (VGG11: 8 convs + fc1, fc2,
 * predictions = 11). Transfer depth n ranges over 0 … length − 1.
 */
export function listWeightLayers(depth: VggDepth): WeightLayerInfo[] {
  const layers: WeightLayerInfo[] = []
  let block = 1
  let inBlock = 0
  for (const entry of VGG_CFGS[depth]) {
    if (entry === 'M') {
      block++
      inBlock = 0
      continue
    }
    inBlock++
    layers.push({ index: layers.length + 1, name: convLayerName(block, inBlock), kind: 'conv', block, units: entry })
  }
  for (const [name, units] of [['fc1', 4096], ['fc2', 4096], ['predictions', 0]] as const) {
    layers.push({ index: layers.length + 1, name, kind: 'dense', units })
  }
  return layers
}

/**
 * Seed 003 names convs "conv 1-1, 1-2, 2-1 …" (block-index). Maps such a label, or a Keras name,
 * to the Keras name; returns undefined when it names no layer of this depth.
 */
export function resolveLayerName(depth: VggDepth, label: string): string | undefined {
  const trimmed = label.trim().toLowerCase()
  const match = /^(?:conv\s*)?(\d+)\s*[-_.]\s*(\d+)$/.exec(trimmed)
  const name = match ? convLayerName(Number(match[1]), Number(match[2])) : trimmed
  return listWeightLayers(depth).some((l) => l.name === name) ? name : undefined
}
