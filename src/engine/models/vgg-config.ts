/**
 * The VGG family as data (after pytorch-cifar100 `models/vgg.py`): numbers are conv widths,
 * 'M' is a 2×2 max pool. One table, one builder; no if/else ladder per depth.
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
export const ARCH_IDS = ['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn'] as const
export type ArchId = (typeof ARCH_IDS)[number]

/** Width multipliers offered in the UI; any positive number works in the engine. */
export const WIDTH_CHOICES = [1, 0.5, 0.25, 0.125] as const

/** Width of the fully connected layers at width 1, as in the seeds' classifier (512→4096→4096→C). */
export const FC_UNITS = 4096

/** Splits an architecture id into its cfg depth and whether it has batch norm. */
export function parseArch(arch: string): { depth: VggDepth; batchNorm: boolean } {
  if (!(ARCH_IDS as readonly string[]).includes(arch)) {
    throw new Error(`unknown architecture '${arch}'; expected one of ${ARCH_IDS.join(', ')}`)
  }
  const batchNorm = arch.endsWith('_bn')
  return { depth: arch.replace(/_bn$/, '') as VggDepth, batchNorm }
}

/** Scales a channel count by the width multiplier, never below one unit. */
export function scaleWidth(units: number, width: number): number {
  return Math.max(1, Math.round(units * width))
}
