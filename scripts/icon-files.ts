/**
 * The app icon's files from its SVG: PNGs at the sizes desktops use, a Windows .ico and a macOS .icns,
 * both of which hold PNG images (Windows Vista and later, macOS 10.7 and later read them).
 */
import sharp from 'sharp'

/** Square sizes, in pixels, of the PNGs: Linux, macOS and Windows between them use all of these. */
export const ICON_SIZES = [16, 32, 48, 64, 128, 256, 512, 1024] as const

/** The sizes the .ico holds (256 is the largest an .ico entry can name). */
export const ICO_SIZES = [16, 32, 48, 64, 128, 256] as const

/** The .icns element types that hold PNG data, and each one's size in pixels (@2x types are twice their name). */
export const ICNS_TYPES: readonly (readonly [string, number])[] = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32],
  ['ic12', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic13', 256],
  ['ic09', 512],
  ['ic14', 512],
  ['ic10', 1024]
]

/** Renders the SVG straight at `size` × `size` pixels (not downscaled from a large render, so grid-aligned edges stay sharp). */
export function renderIconPng(svg: Buffer, size: number): Promise<Buffer> {
  const { width } = parseSvgWidth(svg)
  return sharp(svg, { density: (72 * size) / width })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer()
}

function parseSvgWidth(svg: Buffer): { width: number } {
  const match = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg.toString('utf8'))
  if (!match) throw new Error('icon.svg needs a width attribute in pixels')
  return { width: Number(match[1]) }
}

/** An .ico file holding the given PNGs (keyed by their size), as Windows reads them since Vista. */
export function packIco(pngs: ReadonlyMap<number, Buffer>): Buffer {
  const entries = [...pngs.entries()].sort(([a], [b]) => a - b)
  const header = Buffer.alloc(6 + 16 * entries.length)
  header.writeUInt16LE(0, 0)
  header.writeUInt16LE(1, 2) // 1: icon
  header.writeUInt16LE(entries.length, 4)
  let offset = header.length
  entries.forEach(([size, png], i) => {
    if (size > 256) throw new Error(`an .ico entry cannot be ${size} px`)
    const at = 6 + 16 * i
    header.writeUInt8(size === 256 ? 0 : size, at) // 0 means 256
    header.writeUInt8(size === 256 ? 0 : size, at + 1)
    header.writeUInt8(0, at + 2) // no palette
    header.writeUInt8(0, at + 3)
    header.writeUInt16LE(1, at + 4) // colour planes
    header.writeUInt16LE(32, at + 6) // bits per pixel
    header.writeUInt32LE(png.length, at + 8)
    header.writeUInt32LE(offset, at + 12)
    offset += png.length
  })
  return Buffer.concat([header, ...entries.map(([, png]) => png)])
}

/** An .icns file with one PNG element per entry of ICNS_TYPES, taken from the PNGs keyed by size. */
export function packIcns(pngs: ReadonlyMap<number, Buffer>): Buffer {
  const elements = ICNS_TYPES.map(([type, size]) => {
    const png = pngs.get(size)
    if (!png) throw new Error(`no ${size} px PNG for the .icns element ${type}`)
    const head = Buffer.alloc(8)
    head.write(type, 0, 'ascii')
    head.writeUInt32BE(8 + png.length, 4)
    return Buffer.concat([head, png])
  })
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'ascii')
  head.writeUInt32BE(8 + elements.reduce((sum, e) => sum + e.length, 0), 4)
  return Buffer.concat([head, ...elements])
}
