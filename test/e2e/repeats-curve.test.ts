import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchEvent } from '../../src/shared/contract'
import type { Experiment, RunRecord } from '../../src/shared/project'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import { ARTIFACTS, CHROMIUM, type E2eSession, haveChromium, openWorkbench, type Served, eventWaiter } from './harness'

// Repeats and the transfer curve in Chromium against serve mode with the real engine (wasm): a demo
// sweep with 3 repeats (bases A and B, AnB and BnB at n = 1 and 2: 6 cells × 3 = 18 runs, 1 epoch
// each on a tiny network) trained through the API; then the curve's dots and mean ± std, the y-range
// toggle, the validation/test switch, CSV, SVG and PNG exports, and all 18 rows of the runs table at
// 1920×1080. Screenshots of the Results view in both themes at 1280×800 and 1920×1080.
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let session: E2eSession | undefined
let work = ''
let served: Served | undefined
let client: WorkbenchClient | undefined
let page: Page
const problems: string[] = []
const events: WorkbenchEvent[] = []

const REPEATS: Experiment = {
  id: 'repeats-demo',
  name: 'Repeats demo',
  dataset: 'demo',
  groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB'], n: [1, 2] }],
  config: { width: 1 / 16, epochs: 1, batchSize: 16, trainPerClass: 16 },
  repeats: 3
}

beforeAll(async () => {
  if (!haveChromium) return
  session = await openWorkbench('wb-e2e-repeats-', problems, {}, events)
  ;({ work, served, page, api: client } = session)
}, 300_000)

afterAll(async () => {
  await session?.stop()
})

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

const waitForEvent = eventWaiter(events)

/** Saves a download the click starts; returns its file name and bytes. */
async function download(testId: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId(testId).click()])
  const path = join(work, 'downloads', file.suggestedFilename())
  await file.saveAs(path)
  return { name: file.suggestedFilename(), bytes: await readFile(path) }
}

/** Mean and sample std, as a reader of the project's run.json files would compute them. */
function stats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) }
}

interface SummaryRow {
  series: string
  n: string
  count: number
  mean: number
  std: number
}
const summary = (): Promise<SummaryRow[]> =>
  page
    .getByTestId('curve-summary')
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => ({
        series: tr.getAttribute('data-series') ?? '',
        n: tr.getAttribute('data-n') ?? '',
        count: Number(tr.getAttribute('data-count')),
        mean: Number(tr.getAttribute('data-mean')),
        std: Number(tr.getAttribute('data-std'))
      }))
    )

describe.skipIf(!haveChromium)('repeats and the transfer curve in Chromium', () => {
  let runs: RunRecord[] = []

  it('trains an 18-run sweep with 3 repeats through the API', async () => {
    const api = client!.api
    await api.createProject({ dir: join(work, 'projects', 'repeats'), name: 'Repeats demo' })
    await api.saveExperiment({ experiment: REPEATS })
    const started = Date.now()
    await api.startSweep()
    const end = await waitForEvent((e) => e.type === 'sweep:status' && e.status.state !== 'running', 600_000, 'the sweep to end')
    console.log(`18-run sweep through serve mode: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    expect(end.type === 'sweep:status' && end.status.state).toBe('done')
    runs = (await api.getProject())!.runs
    expect(runs).toHaveLength(18)
    expect(runs.every((r) => r.status === 'done' && r.bestValAcc !== null && r.testAcc !== null)).toBe(true)
    expect(runs.map((r) => r.seed).sort()).toEqual([...Array(6).fill(0), ...Array(6).fill(1), ...Array(6).fill(2)])
  }, 600_000)

  it('plots every repeat and mean ± std per n; fitted or 0–100 % y; validation or test', async () => {
    await page.setViewportSize({ width: 1920, height: 1080 })
    await page.goto(served?.url ?? '')
    await page.getByTestId('project-name').getByText('Repeats demo').waitFor({ timeout: 60_000 })
    await page.getByTestId('nav-results').click()
    const figure = page.getByTestId('chart-curve')
    // 4 cells (AnB, BnB × n = 1, 2): 3 repeat dots and 1 mean each.
    await expect.poll(async () => Number(await figure.getAttribute('data-points')), { timeout: 30_000 }).toBe(16)
    await page.getByTestId('chart-curve').locator('details summary').click()

    const expected = (metric: 'bestValAcc' | 'testAcc'): Map<string, { mean: number; std: number }> => {
      const out = new Map<string, { mean: number; std: number }>()
      const cells = new Map<string, number[]>()
      for (const r of runs) {
        const key = r.kind === 'base' ? (r.to === 'B' ? 'base B|' : '') : `${r.variant}|${r.n}`
        if (key) cells.set(key, [...(cells.get(key) ?? []), r[metric] as number])
      }
      for (const [key, values] of cells) out.set(key, stats(values))
      return out
    }
    const check = async (metric: 'bestValAcc' | 'testAcc'): Promise<void> => {
      const want = expected(metric)
      const rows = await summary()
      expect(rows.map((r) => `${r.series}|${r.n}`)).toEqual(['base B|', 'AnB|1', 'AnB|2', 'BnB|1', 'BnB|2'])
      for (const row of rows) {
        const w = want.get(`${row.series}|${row.n}`)!
        expect(row.count).toBe(3)
        expect(row.mean).toBeCloseTo(w.mean, 10)
        expect(row.std).toBeCloseTo(w.std, 10)
      }
    }
    await check('bestValAcc')
    const table = page.getByTestId('curve-summary')
    expect(await table.getAttribute('data-metric')).toBe('val')
    await expect.poll(() => page.getByTestId('chart-curve').locator('canvas').getAttribute('aria-label')).toContain('Transfer curve')

    // Fitted y range: holds every repeat and mean ± std, in 5 % steps.
    const range = async (): Promise<[number, number]> => [Number(await table.getAttribute('data-y-min')), Number(await table.getAttribute('data-y-max'))]
    const [lo, hi] = await range()
    const drawn = runs.filter((r) => r.kind === 'transfer' || r.to === 'B').map((r) => r.bestValAcc as number)
    expect(lo).toBeLessThanOrEqual(Math.min(...drawn))
    expect(hi).toBeGreaterThanOrEqual(Math.max(...drawn))
    expect(Math.round(lo * 100) % 5).toBe(0)
    expect(hi - lo).toBeLessThanOrEqual(Math.min(1, Math.max(...drawn) - Math.min(...drawn) + 0.35))
    await page.getByTestId('curve-range').click()
    expect(await page.getByTestId('curve-range').getAttribute('aria-pressed')).toBe('true')
    expect(await range()).toEqual([0, 1])
    await shot('results-curve-full-range-light-1920x1080')
    await page.getByTestId('curve-range').click()
    expect(await range()).toEqual([lo, hi])

    await page.getByTestId('curve-metric-test').click()
    expect(await page.getByTestId('curve-metric-test').getAttribute('aria-pressed')).toBe('true')
    await expect.poll(() => table.getAttribute('data-metric')).toBe('test')
    await check('testAcc')
    await page.getByTestId('curve-metric-val').click()
    await expect.poll(() => table.getAttribute('data-metric')).toBe('val')
    expect(problems).toEqual([])
  }, 120_000)

  it('exports the curve as CSV, SVG (title, axis labels, one dot per repeat) and PNG', async () => {
    const csv = await download('chart-curve-csv')
    expect(csv.name).toBe('transfer-curve-a-b-val.csv')
    const lines = csv.bytes.toString('utf8').trim().split('\n')
    expect(lines[0]).toBe('series,from,to,n,metric,mean,std,count,seed1,value1,seed2,value2,seed3,value3')
    expect(lines).toHaveLength(6)
    expect(lines.slice(1).every((l) => l.split(',')[7] === '3')).toBe(true)
    const anb1 = lines.find((l) => l.startsWith('AnB,A,B,1,'))!.split(',')
    const anb1Runs = runs.filter((r) => r.variant === 'AnB' && r.n === 1).sort((a, b) => a.seed - b.seed)
    expect([anb1[8], anb1[10], anb1[12]]).toEqual(['0', '1', '2'])
    expect([anb1[9], anb1[11], anb1[13]].map(Number)).toEqual(anb1Runs.map((r) => r.bestValAcc))

    const svg = await download('chart-curve-svg')
    expect(svg.name).toBe('transfer-curve-a-b-val.svg')
    const text = svg.bytes.toString('utf8')
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(text).toContain('Transfer curve: A → B · best validation accuracy (mean ± std of 3 repeats)</text>')
    expect(text).toContain('>n (layers copied from the source base)</text>')
    expect(text.match(/<circle class="repeat"/g)).toHaveLength(12)
    expect(text.match(/<polyline class="mean"/g)).toHaveLength(3)
    // The browser draws the file as an image (well-formed SVG).
    const size = await page.evaluate(async (markup) => {
      const img = new Image()
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`
      await img.decode()
      return [img.naturalWidth, img.naturalHeight]
    }, text)
    expect(size).toEqual([720, 440])

    const png = await download('chart-curve-png')
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(problems).toEqual([])
  }, 60_000)

  it('shows all 18 runs at 1920×1080 in the page itself, the count matching', async () => {
    const table = page.getByTestId('runs-table')
    const rows = table.locator('tbody tr')
    expect(await rows.count()).toBe(18)
    await expect.poll(() => page.getByTestId('runs-count').textContent()).toBe('18 of 18')
    // No box of its own: the table is as tall as its rows, nothing hidden inside a scroller.
    const box = await table.evaluate((el) => {
      const wrap = el.parentElement as HTMLElement
      return { scroll: wrap.scrollHeight, client: wrap.clientHeight, maxHeight: getComputedStyle(wrap).maxHeight }
    })
    expect(box.maxHeight).toBe('none')
    expect(box.scroll).toBeLessThanOrEqual(box.client + 1)
    // Scrolling the page brings the last row (a BnB row, sorted by label) fully into view.
    const last = rows.last()
    await last.scrollIntoViewIfNeeded()
    const rect = await last.boundingBox()
    expect(rect).not.toBeNull()
    expect(rect!.y).toBeGreaterThanOrEqual(0)
    expect(rect!.y + rect!.height).toBeLessThanOrEqual(1080)
    // Repeats are told apart by their seed.
    const seeds = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td.seed')?.textContent?.trim()))
    expect(seeds.filter((s) => s === '2')).toHaveLength(6)
  }, 60_000)

  it('Design: the saved repeats come back, a bad value gets a message, the seed study presets need CIFAR-10 classes', async () => {
    await page.getByTestId('nav-design').click()
    const repeats = page.getByTestId('repeats')
    await expect.poll(() => repeats.inputValue(), { timeout: 30_000 }).toBe('3')
    await expect.poll(() => page.getByTestId('plan-count').textContent(), { timeout: 30_000 }).toBe('18 runs')
    await repeats.fill('abc')
    await expect.poll(() => page.getByTestId('repeats-problem').textContent()).toBe('“abc” is not a whole number: repeats are 1 to 20')
    expect(await repeats.getAttribute('aria-invalid')).toBe('true')
    await repeats.fill('2')
    await expect.poll(() => page.getByTestId('repeats-problem').count()).toBe(0)
    await expect.poll(() => page.getByTestId('plan-count').textContent(), { timeout: 30_000 }).toBe('12 runs')
    // The demo's classes are not CIFAR-10's: the seed report's experiments say what they need.
    const ab = page.getByTestId('preset-seed-study-ab')
    expect(await ab.isDisabled()).toBe(true)
    expect(await ab.getAttribute('title')).toMatch(/^Needs CIFAR-10’s classes: this dataset has no cat, deer/)
    await page.getByTestId('experiment-presets').screenshot({ path: join(ARTIFACTS, 'design-repeats-presets-light.png') })
    await repeats.fill('3')
    await page.getByTestId('nav-results').click()
    expect(problems).toEqual([])
  }, 60_000)

  it('Results in both themes at 1280×800 and 1920×1080', async () => {
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 }
    ]) {
      await page.setViewportSize(size)
      for (const theme of ['light', 'dark'] as const) {
        const current = await page.evaluate(() => document.documentElement.dataset['theme'])
        if (current !== theme) await page.getByTestId('theme-toggle').click()
        await page.evaluate(() => document.querySelector('main.content')?.scrollTo({ top: 0 }))
        await page.waitForTimeout(300)
        await shot(`results-repeats-${theme}-${size.width}x${size.height}`)
        await page.getByTestId('runs-table').locator('tbody tr').last().scrollIntoViewIfNeeded()
        await page.waitForTimeout(150)
        await page.screenshot({ path: join(ARTIFACTS, `results-repeats-${theme}-${size.width}x${size.height}-table.png`) })
      }
    }
    expect(problems).toEqual([])
  }, 120_000)
})
