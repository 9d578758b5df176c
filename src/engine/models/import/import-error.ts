/** A pretrained model file that cannot be used: names the file and exactly what does not fit. */
export class PretrainedImportError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string
  ) {
    super(`${file}: ${problem}`)
    this.name = 'PretrainedImportError'
  }
}

/** One weight array as read from a file, before it is matched to a model. */
export interface NamedWeight {
  /** As stored, e.g. `block1_conv1/kernel:0`. */
  name: string
  shape: number[]
  values: Float32Array
}

/** The weight arrays of a file, grouped by the layer they belong to, in file order. */
export type LayerWeights = Map<string, NamedWeight[]>

/** `kernel` from `block1_conv1/kernel:0`, `vars/0` … : the part that says which weight of a layer it is. */
export function weightRole(name: string): string {
  const bare = name.replace(/:\d+$/, '')
  return bare.slice(bare.lastIndexOf('/') + 1)
}
