import type { AugmentConfig } from '../../shared/train-config'
import type { Random } from '../random'

const CROP_PADDING = 4

/**
 * Writes one augmented, normalized image into `out` (float HWC) from `src` (byte HWC).
 * Crop-after-padding, flip and rotation are one inverse affine map sampled bilinearly, so an image
 * is touched once however many augmentations are on. Outside the source is zero (black), as with
 * PyTorch's zero-padded RandomCrop.
 */
export function augmentInto(
  src: Uint8Array,
  srcOffset: number,
  size: number,
  out: Float32Array,
  outOffset: number,
  scale: Float32Array,
  shift: Float32Array,
  augment: AugmentConfig | null,
  random: Random
): void {
  const dx = augment?.crop ? random.int(2 * CROP_PADDING + 1) - CROP_PADDING : 0
  const dy = augment?.crop ? random.int(2 * CROP_PADDING + 1) - CROP_PADDING : 0
  const flip = augment?.flip ? random.next() < 0.5 : false
  const angle = augment?.rotate ? ((random.next() * 2 - 1) * augment.rotateDegrees * Math.PI) / 180 : 0

  if (angle === 0) {
    copyShifted(src, srcOffset, size, out, outOffset, scale, shift, dx, dy, flip)
    return
  }
  const cos = Math.cos(angle)
  const sin = Math.sin(angle)
  const center = (size - 1) / 2
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Output pixel → source coordinates: undo the crop shift, the flip, then the rotation.
      const ux = (flip ? size - 1 - x : x) + dx - center
      const uy = y + dy - center
      const sx = cos * ux + sin * uy + center
      const sy = -sin * ux + cos * uy + center
      const o = outOffset + (y * size + x) * 3
      sampleBilinear(src, srcOffset, size, sx, sy, out, o, scale, shift)
    }
  }
}

function copyShifted(
  src: Uint8Array,
  srcOffset: number,
  size: number,
  out: Float32Array,
  outOffset: number,
  scale: Float32Array,
  shift: Float32Array,
  dx: number,
  dy: number,
  flip: boolean
): void {
  for (let y = 0; y < size; y++) {
    const sy = y + dy
    for (let x = 0; x < size; x++) {
      const sx = (flip ? size - 1 - x : x) + dx
      const o = outOffset + (y * size + x) * 3
      if (sy < 0 || sy >= size || sx < 0 || sx >= size) {
        out[o] = shift[0]
        out[o + 1] = shift[1]
        out[o + 2] = shift[2]
      } else {
        const s = srcOffset + (sy * size + sx) * 3
        out[o] = src[s] * scale[0] + shift[0]
        out[o + 1] = src[s + 1] * scale[1] + shift[1]
        out[o + 2] = src[s + 2] * scale[2] + shift[2]
      }
    }
  }
}

function sampleBilinear(
  src: Uint8Array,
  srcOffset: number,
  size: number,
  sx: number,
  sy: number,
  out: Float32Array,
  o: number,
  scale: Float32Array,
  shift: Float32Array
): void {
  const x0 = Math.floor(sx)
  const y0 = Math.floor(sy)
  const fx = sx - x0
  const fy = sy - y0
  for (let c = 0; c < 3; c++) {
    let acc = 0
    for (let j = 0; j < 2; j++) {
      const yy = y0 + j
      if (yy < 0 || yy >= size) continue
      const wy = j === 0 ? 1 - fy : fy
      for (let i = 0; i < 2; i++) {
        const xx = x0 + i
        if (xx < 0 || xx >= size) continue
        const wx = i === 0 ? 1 - fx : fx
        acc += wx * wy * src[srcOffset + (yy * size + xx) * 3 + c]
      }
    }
    out[o + c] = acc * scale[c] + shift[c]
  }
}
