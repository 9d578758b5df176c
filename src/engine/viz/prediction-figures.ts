import { colorAt, type CellImages, type ConfusionMatrix, type Prediction } from '../../shared/viz'
import { encodePng, textWidth, TITLE_HEIGHT, type FigureText } from './png'
import { createRaster, drawRgbBytes, fillRect, scaleFor } from './raster'

const LABEL_WIDTH = 110

/** The confusion matrix as a PNG: cells coloured by row share (recall per true class), counts written in. */
export async function renderConfusionPng(matrix: ConfusionMatrix, title: string): Promise<Buffer> {
  const k = matrix.classNames.length
  const cell = Math.max(22, Math.min(48, Math.floor(480 / k)))
  const top = TITLE_HEIGHT + 18
  const width = Math.max(LABEL_WIDTH + k * cell + 8, textWidth(title))
  const columnLabels = Math.min(110, Math.max(...matrix.classNames.map((n) => textWidth(n, 11))))
  const height = top + k * cell + columnLabels + 24
  const figure = createRaster(width, height)
  const texts: FigureText[] = [{ x: 4, y: 15, text: title }, { x: LABEL_WIDTH, y: top - 6, text: 'predicted →', size: 10 }]
  matrix.counts.forEach((row, t) => {
    const rowTotal = row.reduce((a, b) => a + b, 0)
    texts.push({ x: LABEL_WIDTH - 6, y: top + t * cell + cell / 2 + 4, text: matrix.classNames[t], size: 11, anchor: 'end' })
    row.forEach((count, p) => {
      const share = rowTotal > 0 ? count / rowTotal : 0
      fillRect(figure, LABEL_WIDTH + p * cell, top + t * cell, cell - 1, cell - 1, colorAt('viridis', share))
      // Viridis is dark below ~0.5: write counts in white there.
      const fill = share < 0.5 ? '#fff' : '#222'
      if (count > 0) texts.push({ x: LABEL_WIDTH + p * cell + cell / 2, y: top + t * cell + cell / 2 + 4, text: String(count), size: 10, anchor: 'middle', fill })
    })
  })
  matrix.classNames.forEach((name, p) => {
    texts.push({ x: LABEL_WIDTH + p * cell + cell / 2 + 4, y: top + k * cell + 6, text: name, size: 11, anchor: 'end', rotate: -90 })
  })
  texts.push({ x: 4, y: height - 8, text: `accuracy ${(matrix.accuracy * 100).toFixed(1)}% of ${matrix.total} ${matrix.split} images · rows: true class`, size: 11 })
  return encodePng(figure, texts)
}

/** One image with its top classes as probability bars. */
export async function renderPredictionPng(prediction: Prediction, pixels: Uint8Array, size: number, title: string): Promise<Buffer> {
  const factor = scaleFor(size, 128)
  const side = size * factor
  const barsX = side + 16 + LABEL_WIDTH
  const barMax = 220
  const rowHeight = 20
  const width = Math.max(barsX + barMax + 60, textWidth(title))
  const height = TITLE_HEIGHT + Math.max(side, prediction.top.length * rowHeight) + 12
  const figure = createRaster(width, height)
  drawRgbBytes(figure, pixels, size, size, 4, TITLE_HEIGHT + 4, factor)
  const texts: FigureText[] = [{ x: 4, y: 15, text: title }]
  prediction.top.forEach((entry, i) => {
    const y = TITLE_HEIGHT + 4 + i * rowHeight
    fillRect(figure, barsX, y + 3, Math.max(1, Math.round(entry.probability * barMax)), rowHeight - 6, i === 0 ? [68, 114, 176] : [150, 170, 200])
    texts.push(
      { x: barsX - 6, y: y + 14, text: entry.className, size: 11, anchor: 'end' },
      { x: barsX + Math.round(entry.probability * barMax) + 4, y: y + 14, text: `${(entry.probability * 100).toFixed(1)}%`, size: 11 }
    )
  })
  return encodePng(figure, texts)
}

/** The images of a confusion-matrix cell as a contact sheet, most confident mistakes first. */
export async function renderCellImagesPng(cell: CellImages, pixels: Uint8Array[], size: number, title: string): Promise<Buffer> {
  const factor = scaleFor(size, 64)
  const side = size * factor
  const columns = Math.max(1, Math.min(8, pixels.length))
  const rows = Math.max(1, Math.ceil(pixels.length / columns))
  const figure = createRaster(Math.max(240, columns * (side + 6) + 6, textWidth(title)), TITLE_HEIGHT + rows * (side + 20) + 6)
  const texts: FigureText[] = [{ x: 4, y: 15, text: title }]
  pixels.forEach((p, i) => {
    const x = 6 + (i % columns) * (side + 6)
    const y = TITLE_HEIGHT + Math.floor(i / columns) * (side + 20)
    drawRgbBytes(figure, p, size, size, x, y, factor)
    texts.push({ x: x + side / 2, y: y + side + 13, text: `${(cell.images[i].predictedProbability * 100).toFixed(0)}%`, size: 10, anchor: 'middle' })
  })
  return encodePng(figure, texts)
}
