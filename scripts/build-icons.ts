/**
 * `npm run build:icons`: renders resources/icon.svg into the app icon's files, which are committed.
 *
 *   resources/icon.png          512 px: the window's and the About box's icon
 *   resources/icons/NxN.png     16 … 1024 px, the set Linux packages install (and electron-builder reads)
 *   resources/icon.ico          Windows
 *   resources/icon.icns         macOS
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ICON_SIZES, ICO_SIZES, packIcns, packIco, renderIconPng } from './icon-files'

const RESOURCES = join(import.meta.dirname, '..', 'resources')

const svg = await readFile(join(RESOURCES, 'icon.svg'))
const pngs = new Map<number, Buffer>()
for (const size of ICON_SIZES) pngs.set(size, await renderIconPng(svg, size))

await mkdir(join(RESOURCES, 'icons'), { recursive: true })
for (const [size, png] of pngs) await writeFile(join(RESOURCES, 'icons', `${size}x${size}.png`), png)
await writeFile(join(RESOURCES, 'icon.png'), pngs.get(512)!)
await writeFile(join(RESOURCES, 'icon.ico'), packIco(new Map(ICO_SIZES.map((size) => [size, pngs.get(size)!]))))
await writeFile(join(RESOURCES, 'icon.icns'), packIcns(pngs))
console.log(`icons: ${ICON_SIZES.join(', ')} px PNGs, icon.png, icon.ico and icon.icns in ${RESOURCES}`)
