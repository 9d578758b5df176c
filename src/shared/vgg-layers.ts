/**
 * The VGG layer table as plain data, for pictures of the network (the renderer may not import the
 * engine). A small pure copy of `src/engine/models/vgg-config.ts` + `layer-names.ts`: the same cfg
 * table and the same Keras names, with the pools kept in place so a picture can draw them.
 */

/** Conv widths per VGG depth at width 1; 'M' is a 2×2 max pool. */
export const VGG_LAYER_CFGS: Readonly<Record<string, readonly (number | 'M')[]>> = Object.freeze({
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M']
})

/** One element of the network picture, input to output. */
export type NetworkElement =
  | {
      type: 'weight'
      /** 1-based index among weight layers: transfer depth n copies layers 1…n. */
      index: number
      /** Keras name: `block1_conv1`…, `fc1`, `fc2`, `predictions`. */
      name: string
      kind: 'conv' | 'dense'
      /** Conv block (1-based); undefined for dense layers. */
      block?: number
      /** Channels or units at the given width (0 for predictions: it depends on the task). */
      units: number
    }
  | { type: 'pool'; name: string; block: number }

/** The cfg depth of an architecture id (`vgg11_bn` → `vgg11`); undefined for an unknown one. */
export function archDepth(arch: string): string | undefined {
  const depth = arch.replace(/_bn$/, '')
  return depth in VGG_LAYER_CFGS ? depth : undefined
}

/**
 * The network of an architecture as the picture draws it: weight layers with the pools between
 * blocks. Units are scaled by the width multiplier (never below one), as the engine builds them.
 */
export function listNetworkElements(arch: string, width = 1): NetworkElement[] {
  const depth = archDepth(arch)
  if (!depth) return []
  const scale = (units: number): number => Math.max(1, Math.round(units * width))
  const out: NetworkElement[] = []
  let block = 1
  let inBlock = 0
  let index = 0
  for (const entry of VGG_LAYER_CFGS[depth] ?? []) {
    if (entry === 'M') {
      out.push({ type: 'pool', name: `block${block}_pool`, block })
      block++
      inBlock = 0
      continue
    }
    inBlock++
    out.push({ type: 'weight', index: ++index, name: `block${block}_conv${inBlock}`, kind: 'conv', block, units: scale(entry) })
  }
  for (const [name, units] of [['fc1', 4096], ['fc2', 4096], ['predictions', 0]] as const) {
    out.push({ type: 'weight', index: ++index, name, kind: 'dense', units: units ? scale(units) : 0 })
  }
  return out
}

/** How many weight layers an architecture has (VGG11: 11); transfer depth n ranges over 0 … count − 1. */
export function countWeightLayers(arch: string): number {
  return listNetworkElements(arch).filter((e) => e.type === 'weight').length
}
