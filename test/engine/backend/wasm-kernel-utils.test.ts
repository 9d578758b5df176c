/** padImage: the image at its offset, zeros everywhere else, whatever the memory held before. */
import { describe, expect, it } from 'vitest'
import { padImage } from '../../../src/engine/backend/wasm-kernel-utils'

describe('padImage', () => {
  it.each([
    // [n, h, w, c], hp, wp, top, left
    [[2, 3, 4, 2], 5, 6, 1, 1],
    [[1, 2, 2, 3], 5, 4, 2, 0],
    [[3, 2, 3, 1], 2, 3, 0, 0],
    [[2, 1, 2, 4], 4, 7, 0, 3]
  ] as const)('pads %j into %i × %i at (%i, %i)', (shape, hp, wp, top, left) => {
    const [n, h, w, c] = shape
    const size = n * h * w * c
    const paddedSize = n * hp * wp * c
    // As in wasm memory: a few values, the padded image, a gap, the image, a few values after it.
    const before = 3
    const dst = before
    const src = dst + paddedSize + 5
    const memory = new Float32Array(src + size + 3).fill(-1)
    memory.fill(Number.NaN, dst, dst + paddedSize)
    const image = Float32Array.from({ length: size }, (_, i) => i + 1)
    memory.set(image, src)
    padImage(memory, src, dst, [n, h, w, c], hp, wp, top, left)
    const expected = new Float32Array(paddedSize)
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < c; k++) expected[((b * hp + y + top) * wp + x + left) * c + k] = image[((b * h + y) * w + x) * c + k] as number
        }
      }
    }
    expect(memory.subarray(dst, dst + paddedSize)).toEqual(expected)
    // Nothing else written: the values around the padded image, and the image itself.
    expect([...memory.subarray(0, dst), ...memory.subarray(dst + paddedSize, src), ...memory.subarray(src + size)].every((v) => v === -1)).toBe(true)
    expect(memory.subarray(src, src + size)).toEqual(image)
  })
})
