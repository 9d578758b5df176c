/**
 * The VGG family as data, the one table the engine (builder, importer, transfer, viz), the CLI and the
 * renderer (the network picture, the bound on n) all read: cfgs after pytorch-cifar100 `models/vgg.py`
 * (numbers are conv widths, 'M' a 2×2 max pool), architecture ids, widths, Keras layer names, and the
 * one walk over a cfg that everything else derives from. Plain TypeScript: no Node, no tfjs.
 */

export type VggCfgEntry = number | 'M'

export const VGG_CFGS = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M']
} as const satisfies Record<string, readonly VggCfgEntry[]>

export type VggDepth = keyof typeof VGG_CFGS

/** Architecture ids the workbench accepts: the depth, with `_bn` for batch norm after every conv. */
export const ARCH_IDS = ['vgg11_bn', 'vgg11', 'vgg13_bn', 'vgg13', 'vgg16_bn', 'vgg16', 'vgg19_bn', 'vgg19'] as const
export type ArchId = (typeof ARCH_IDS)[number]

/** Width multipliers the UI offers (small widths are how CPU users get answers in minutes); any positive number works. */
export const WIDTH_CHOICES = [1, 0.5, 0.25, 0.125, 0.0625] as const

/** Width of the fully connected layers at width 1, as in the seeds' classifier (512→4096→4096→C). */
export const FC_UNITS = 4096

/** Splits an architecture id into its cfg depth and whether it has batch norm. */
export function parseArch(arch: string): { depth: VggDepth; batchNorm: boolean } {
  if (!(ARCH_IDS as readonly string[]).includes(arch)) {
    throw new Error(`unknown architecture '${arch}'; expected one of ${ARCH_IDS.join(', ')}`)
  }
  return { depth: arch.replace(/_bn$/, '') as VggDepth, batchNorm: arch.endsWith('_bn') }
}

/** The cfg depth of an architecture id or depth (`vgg11_bn` → `vgg11`); undefined for an unknown one. */
export function archDepth(arch: string): VggDepth | undefined {
  const depth = arch.replace(/_bn$/, '')
  return depth in VGG_CFGS ? (depth as VggDepth) : undefined
}

/** Scales a channel count by the width multiplier, never below one unit. */
export function scaleWidth(units: number, width: number): number {
  return Math.max(1, Math.round(units * width))
}

/** Keras-style names for the conv layers of one block: block{b}_conv{i}. */
export function convLayerName(block: number, indexInBlock: number): string {
  return `block${block}_conv${indexInBlock}`
}

/** Keras-style name of the pool closing block b. */
export function poolLayerName(block: number): string {
  return `block${block}_pool`
}

/** One weight layer of a VGG, in input-to-output order. */
export interface WeightLayerInfo {
  type: 'weight'
  /** 1-based position among weight layers: transfer depth n copies layers 1…n. */
  index: number
  /** Keras name: `block1_conv1`…, `fc1`, `fc2`, `predictions`. */
  name: string
  kind: 'conv' | 'dense'
  /** Conv block (1-based) for convs; undefined for dense layers. */
  block?: number
  /** Channels or units at the given width (0 for predictions: it depends on the task). */
  units: number
}

/** One element of the network, input to output: a weight layer or the pool closing a block. */
export type NetworkElement = WeightLayerInfo | { type: 'pool'; name: string; block: number }

/**
 * The network of an architecture (id or depth), input to output: its weight layers with the pools
 * between blocks, units scaled by the width multiplier as the builder makes them. The one walk over a
 * cfg; an unknown architecture gives an empty list.
 */
export function listNetworkElements(arch: string, width = 1): NetworkElement[] {
  const depth = archDepth(arch)
  if (!depth) return []
  const out: NetworkElement[] = []
  let block = 1
  let inBlock = 0
  let index = 0
  for (const entry of VGG_CFGS[depth]) {
    if (entry === 'M') {
      out.push({ type: 'pool', name: poolLayerName(block), block })
      block++
      inBlock = 0
      continue
    }
    inBlock++
    out.push({ type: 'weight', index: ++index, name: convLayerName(block, inBlock), kind: 'conv', block, units: scaleWidth(entry, width) })
  }
  for (const [name, units] of [['fc1', FC_UNITS], ['fc2', FC_UNITS], ['predictions', 0]] as const) {
    out.push({ type: 'weight', index: ++index, name, kind: 'dense', units: units ? scaleWidth(units, width) : 0 })
  }
  return out
}

/** The weight layers of a VGG in order (VGG11: 8 convs + fc1, fc2, predictions = 11). */
export function listWeightLayers(arch: string, width = 1): WeightLayerInfo[] {
  return listNetworkElements(arch, width).filter((e): e is WeightLayerInfo => e.type === 'weight')
}

/** The largest transfer depth n (VGG11: 10): every weight layer but the task's own output layer. */
export function maxTransferDepth(arch: string): number {
  return Math.max(0, listWeightLayers(arch).length - 1)
}

/**
 * Seed 003 names convs "conv 1-1, 1-2, 2-1 …" (block-index). Maps such a label, or a Keras name,
 * to the Keras name; returns undefined when it names no layer of this architecture.
 */
export function resolveLayerName(arch: string, label: string): string | undefined {
  const trimmed = label.trim().toLowerCase()
  const match = /^(?:conv\s*)?(\d+)\s*[-_.]\s*(\d+)$/.exec(trimmed)
  const name = match ? convLayerName(Number(match[1]), Number(match[2])) : trimmed
  return listWeightLayers(arch).some((l) => l.name === name) ? name : undefined
}
