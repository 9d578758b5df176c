/** padImage: the image at its offset, zeros everywhere else, whatever the buffer held before. */
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
    const src = Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1)
    const dst = new Float32Array(n * hp * wp * c).fill(Number.NaN)
    padImage(src, dst, [n, h, w, c], hp, wp, top, left)
    const expected = new Float32Array(dst.length)
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < c; k++) expected[((b * hp + y + top) * wp + x + left) * c + k] = src[((b * h + y) * w + x) * c + k] as number
        }
      }
    }
    expect(dst).toEqual(expected)
  })
})
