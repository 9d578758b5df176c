/**
 * The app icon's committed files (resources/): every PNG has the size its name gives, the .ico and the
 * .icns hold PNGs of the sizes their headers claim, and the PNGs are what resources/icon.svg renders to
 * (`npm run build:icons` after an edit of the SVG).
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ICNS_TYPES, ICO_SIZES, ICON_SIZES, renderIconPng } from '../../scripts/icon-files'

const RESOURCES = join(import.meta.dirname, '../../resources')

async function pngSize(png: Buffer): Promise<[number, number]> {
  const { format, width, height } = await sharp(png).metadata()
  expect(format).toBe('png')
  return [width, height]
}

describe('the app icon in resources/', () => {
  it('has a PNG for every size, each as large as its name says, and icon.png at 512 px', async () => {
    const names = (await readdir(join(RESOURCES, 'icons'))).sort()
    expect(names).toEqual(ICON_SIZES.map((s) => `${s}x${s}.png`).sort())
    expect(ICON_SIZES).toEqual([16, 32, 48, 64, 128, 256, 512, 1024])
    for (const size of ICON_SIZES) {
      expect(await pngSize(await readFile(join(RESOURCES, 'icons', `${size}x${size}.png`))), `${size}x${size}.png`).toEqual([size, size])
    }
    expect(await pngSize(await readFile(join(RESOURCES, 'icon.png')))).toEqual([512, 512])
  })

  it('has an .ico whose entries are PNGs of the sizes its directory names', async () => {
    const ico = await readFile(join(RESOURCES, 'icon.ico'))
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1])
    const count = ico.readUInt16LE(4)
    const sizes: number[] = []
    for (let i = 0; i < count; i++) {
      const at = 6 + 16 * i
      const size = ico.readUInt8(at) || 256
      expect(ico.readUInt8(at + 1) || 256).toBe(size)
      const [length, offset] = [ico.readUInt32LE(at + 8), ico.readUInt32LE(at + 12)]
      expect(offset + length).toBeLessThanOrEqual(ico.length)
      expect(await pngSize(ico.subarray(offset, offset + length))).toEqual([size, size])
      sizes.push(size)
    }
    expect(sizes).toEqual([...ICO_SIZES])
  })

  it('has an .icns whose elements are PNGs of their types’ sizes, 16 to 1024 px', async () => {
    const icns = await readFile(join(RESOURCES, 'icon.icns'))
    expect(icns.toString('ascii', 0, 4)).toBe('icns')
    expect(icns.readUInt32BE(4)).toBe(icns.length)
    const found: [string, number][] = []
    for (let at = 8; at < icns.length; ) {
      const [type, length] = [icns.toString('ascii', at, at + 4), icns.readUInt32BE(at + 4)]
      const [width] = await pngSize(icns.subarray(at + 8, at + length))
      found.push([type, width])
      at += length
    }
    expect(found).toEqual(ICNS_TYPES.map(([type, size]) => [type, size]))
  })

  it('is what icon.svg renders to (run `npm run build:icons` after editing the SVG)', async () => {
    const svg = await readFile(join(RESOURCES, 'icon.svg'))
    for (const size of [16, 64]) {
      const raw = (png: Buffer): Promise<Buffer> => sharp(png).ensureAlpha().raw().toBuffer()
      const [rendered, committed] = await Promise.all([raw(await renderIconPng(svg, size)), readFile(join(RESOURCES, 'icons', `${size}x${size}.png`)).then(raw)])
      expect(committed.length).toBe(rendered.length)
      // A renderer update may move edges by a shade; an edited drawing moves far more.
      let diff = 0
      for (let i = 0; i < rendered.length; i++) diff += Math.abs(rendered[i]! - committed[i]!)
      expect(diff / rendered.length, `${size} px`).toBeLessThan(2)
    }
  })
})
