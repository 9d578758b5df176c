/**
 * Tensors laid end to end in one flat index space (the trainable weights for the update's slices,
 * every weight for streaming them through the exchange area): where a flat range falls in them.
 */

/** Where each item starts in the flat space, and the end: items + 1 offsets. */
export function flatOffsets(sizes: readonly number[]): number[] {
  const offsets = [0]
  for (const size of sizes) offsets.push((offsets[offsets.length - 1] as number) + size)
  return offsets
}

/**
 * Calls `each` for every part of the flat range [lo, hi) that falls in one item, in order: the item,
 * the part's first index within the item, its length, and its first flat index.
 */
export function forEachPiece(offsets: readonly number[], lo: number, hi: number, each: (item: number, at: number, n: number, flat: number) => void): void {
  for (let item = 0; item < offsets.length - 1; item++) {
    const start = Math.max(lo, offsets[item] as number)
    const end = Math.min(hi, offsets[item + 1] as number)
    if (start < end) each(item, start - (offsets[item] as number), end - start, start)
  }
}
