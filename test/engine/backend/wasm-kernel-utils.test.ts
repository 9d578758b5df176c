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
    const size = n * h * w * c
    const paddedSize = n * hp * wp * c
    // Apart, and as the kernels pass them: two views of one buffer (wasm memory), the image after a gap.
    const apart = [new Float32Array(size), new Float32Array(paddedSize)] as const
    const memory = new ArrayBuffer(4 * (paddedSize + 5 + size + 3))
    const inOne = [new Float32Array(memory, 4 * (paddedSize + 5), size), new Float32Array(memory, 0, paddedSize)] as const
    for (const [src, dst] of [apart, inOne]) check(src, dst, shape, hp, wp, top, left)
  })
})

function check(src: Float32Array, dst: Float32Array, shape: readonly [number, number, number, number], hp: number, wp: number, top: number, left: number): void {
  const [n, h, w, c] = shape
  src.set(Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1))
  dst.fill(Number.NaN)
  const after = new Float32Array(src.buffer, src.byteOffset + 4 * src.length, src.buffer === dst.buffer ? 3 : 0).fill(-1)
  padImage(src, dst, [n, h, w, c], hp, wp, top, left)
  expect(after.every((v) => v === -1)).toBe(true)
  const expected = new Float32Array(dst.length)
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) expected[((b * hp + y + top) * wp + x + left) * c + k] = src[((b * h + y) * w + x) * c + k] as number
      }
    }
  }
  expect(dst).toEqual(expected)
}
