import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchEvent } from '../../src/shared/contract'
import type { Experiment, RunRecord } from '../../src/shared/project'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import { ARTIFACTS, CHROMIUM, type E2eSession, eventWaiter, haveChromium, openWorkbench, type Served } from './harness'

// Issue 18's Design, Data, Inside and Home items in Chromium against serve mode with the real engine
// (wasm backend): a tiny demo sweep trained through the API, an experiment on the real CIFAR-10 JPEG
// folder saved beside it, then what a user saw go wrong: the design after a reload, invalid depths,
// the network picture's shapes, a layer opened in Inside, Compare's one picker, the Data view's
// counts, the project card, and two tabs with two projects. Screenshots of the four views, both
// themes, both sizes, in test-results/e2e.
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)
const SHARED = resolve(import.meta.dirname, '../../../shared/datasets')
const CIFAR_JPG = join(SHARED, 'cifar10-jpg')
const HAVE_CIFAR = existsSync(CIFAR_JPG)
if (!HAVE_CIFAR) console.warn(`design-data e2e: ${CIFAR_JPG} not found (see ../shared/datasets/README.md); the folder experiment uses the demo set`)

let session: E2eSession | undefined
let work = ''
let served: Served | undefined
let client: WorkbenchClient | undefined
let page: Page
const problems: string[] = []
const events: WorkbenchEvent[] = []

/** Bases A and B, AnB and AnB+ at n = 2: tiny, a few seconds each on wasm. */
const DEMO: Experiment = {
  id: 'design-demo',
  name: 'Demo look',
  dataset: 'demo',
  groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'AnB+'], n: [2] }],
  config: { width: 1 / 16, epochs: 1, batchSize: 16, trainPerClass: 16 }
}
const LONG_NAME = 'Animals versus vehicles on the real CIFAR-10 JPEG folder, n swept from one to ten in steps of three'
/** Saved, never run: the experiment a reload must bring back. */
const FOLDER: Experiment = {
  id: 'design-folder',
  name: LONG_NAME,
  dataset: HAVE_CIFAR ? `folder:${CIFAR_JPG}` : 'demo',
  groups: HAVE_CIFAR
    ? { A: ['cat', 'deer', 'dog', 'horse', 'ship'], B: ['airplane', 'automobile', 'bird', 'frog', 'truck'] }
    : { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB', 'AnB+', 'BnB+'], n: [1, 4, 7, 10] }],
  config: { width: 1 / 16, epochs: 1, batchSize: 16, trainPerClass: 16 }
}
let runs: RunRecord[] = []

beforeAll(async () => {
  if (!haveChromium) return
  session = await openWorkbench('wb-e2e-design-', problems, HAVE_CIFAR ? { E2E_DATASET_DIRS: SHARED } : {}, events)
  ;({ work, served, page, api: client } = session)
  const api = (client as WorkbenchClient).api
  await api.createProject({ dir: join(work, 'projects', 'study'), name: 'Design study' })
  await api.saveExperiment({ experiment: DEMO })
  await api.startSweep()
  await eventWaiter(events)((e) => e.type === 'sweep:status' && e.status.state !== 'running', 240_000, 'the demo sweep')
  await api.saveExperiment({ experiment: FOLDER })
  runs = (await api.getProject())?.runs ?? []
}, 300_000)

afterAll(async () => {
  await session?.stop()
})

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
const text = async (testId: string, on: Page = page): Promise<string> => ((await on.getByTestId(testId).textContent()) ?? '').replace(/\s+/g, ' ').trim()

describe.skipIf(!haveChromium)('Design, Data, Inside and Home in Chromium', () => {
  it('trained the demo sweep through the API', () => {
    expect(runs.filter((r) => r.status === 'done').map((r) => `${r.kind}:${r.variant ?? ''}`).sort()).toEqual(['base:', 'base:', 'transfer:AnB', 'transfer:AnB+'])
  })

  it('shows consistent dataset counts, with image counts for the JPEG folder', async () => {
    await page.goto(served?.url ?? '')
    await page.getByTestId('project-name').getByText('Design study').waitFor({ timeout: 60_000 })
    await page.getByTestId('nav-data').click()
    const listed = HAVE_CIFAR ? 3 : 1 // demo, plus the CIFAR-10 test batch and the JPEG folder found in ../shared/datasets
    await page.getByTestId('datasets-count').getByText(`${listed} dataset${listed === 1 ? '' : 's'} ready to use`).waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('datasets-looking').count()).toBe(0)
    expect(await page.getByTestId('datasets-none').count()).toBe(0)
    // The library is empty, and says so without contradicting the list beside it.
    expect(await text('library-count')).toBe('0 downloaded or imported')
    const empty = await text('library-empty')
    expect(empty).toContain('Nothing downloaded or imported into the library yet')
    if (listed > 1) expect(empty).toContain(`The ${listed} datasets listed on the left are built in or found in the engine’s dataset folders`)
    if (HAVE_CIFAR) {
      await page.getByTestId('dataset-folder').click()
      // Counted from the folder's files: 5,000 train and 1,000 test images a class.
      await page.getByTestId('class-cat').getByTestId('class-count').getByText('5000 train · 1000 test').waitFor({ timeout: 60_000 })
      expect(await text('dataset-totals')).toBe('· 50,000 train · 10,000 test images')
    }
    expect(problems).toEqual([])
  }, 120_000)

  it('names the dataset on the project card and keeps a long experiment name on one line', async () => {
    await page.getByTestId('nav-home').click()
    const card = page.getByTestId(`experiment-${FOLDER.id}`)
    await card.waitFor()
    const dataset = await card.getByTestId('experiment-dataset-name').textContent()
    expect(dataset).toBe(HAVE_CIFAR ? 'Image folder (cifar10-jpg)' : 'Demo patterns')
    expect(await card.textContent()).not.toContain('folder:')
    const lines = await card.locator('.exp-name').evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight || '18')))
    expect(lines).toBe(1)
    expect(await card.locator('.exp-name').getAttribute('title')).toBe(LONG_NAME)
  })

  it('keeps the saved design after a reload', async () => {
    await page.getByTestId('nav-design').click()
    expect(await page.getByTestId('experiment-picker').inputValue()).toBe(FOLDER.id)
    await page.reload()
    await page.getByTestId('experiment-name').waitFor({ timeout: 60_000 })
    // The saved experiment, not a blank "New experiment" on the demo set.
    await expect.poll(() => page.getByTestId('experiment-picker').inputValue(), { timeout: 30_000 }).toBe(FOLDER.id)
    expect(await page.getByTestId('experiment-name').inputValue()).toBe(LONG_NAME)
    expect(await page.getByTestId('experiment-dataset').inputValue()).toBe(FOLDER.dataset)
    expect(await page.getByTestId('range-from').inputValue()).toBe('1')
    expect(await page.getByTestId('range-to').inputValue()).toBe('10')
    expect(await page.getByTestId('range-step').inputValue()).toBe('3')
    await page.getByTestId('plan-count').getByText('18 runs').waitFor({ timeout: 30_000 })
  }, 90_000)

  it('refuses invalid depths with a message beside the field, changing nothing, and blocks the sweep until fixed', async () => {
    const depths = (): Promise<string> => text('depth-summary')
    expect(await depths()).toContain('n = 1, 4, 7, 10')
    await expect.poll(() => page.getByTestId('save-and-run').isEnabled()).toBe(true)
    for (const [field, typed, message] of [
      ['to', '42', 'to: n = 42 is outside 0–10, the depths this network has'],
      ['from', '-3', 'from: n = -3 is outside 0–10, the depths this network has'],
      ['step', 'abc', 'every: “abc” is not a whole number'],
      ['step', '0', 'every: 0 is outside 1–10 (the step between depths)']
    ] as const) {
      await page.getByTestId(`range-${field}`).fill(typed)
      expect(await text(`range-problem-${field}`)).toBe(message)
      // The field keeps what was typed; the sweep keeps its depths; nothing can start.
      expect(await page.getByTestId(`range-${field}`).inputValue()).toBe(typed)
      expect(await page.getByTestId(`range-${field}`).getAttribute('aria-invalid')).toBe('true')
      expect(await depths()).toContain('n = 1, 4, 7, 10')
      expect(await page.getByTestId('save-and-run').isDisabled()).toBe(true)
      expect(await page.getByTestId('save-experiment').isDisabled()).toBe(true)
    }
    await page.getByTestId('range-problems').evaluate((el) => el.scrollIntoView({ block: 'center' }))
    await shot('design-invalid-depth-light-1280x800')
    await page.getByTestId('range-to').fill('10')
    await page.getByTestId('range-from').fill('1')
    await page.getByTestId('range-step').fill('3')
    expect(await page.getByTestId('range-problems').count()).toBe(0)
    await expect.poll(() => page.getByTestId('save-and-run').isEnabled()).toBe(true)
    expect(await depths()).toContain('n = 1, 4, 7, 10')
  })

  it('shows each layer’s output shape and parameters on hover, for the chosen width', async () => {
    // Width 1/16: block2_conv1 has 128/16 = 8 filters over block1's 4 channels, after one 2×2 pool of 32×32.
    await page.getByTestId('layer-2').hover()
    expect(await text('layer-info-shape')).toBe('output 16×16×8')
    // 3·3·4·8 weights + 8 biases + 16 batch-norm scale and shift; 16 running statistics besides.
    expect(await text('layer-info-params')).toBe('312 parameters (+16 batch-norm statistics, not trained)')
    // fc1 at width 1/16: 256 units over the 32 channels of the last 1×1 pool.
    await page.getByTestId('layer-9').hover()
    expect(await text('layer-info-shape')).toBe('output 256')
    expect(await text('layer-info-params')).toBe(`${(32 * 256 + 256).toLocaleString('en-US')} parameters`)
    await page.getByTestId('layer-11').hover()
    expect(await text('layer-info-shape')).toBe(`output ${FOLDER.groups['B']?.length}`)
    await page.getByTestId('layer-2').hover()
    await shot('design-network-hover-light-1280x800')
  })

  it('opens a layer clicked in the network picture in the Inside view, on the experiment’s model', async () => {
    await page.getByTestId('experiment-picker').selectOption(DEMO.id)
    await page.getByTestId('inspect-layer-3').click()
    await page.getByTestId('view-inside').waitFor()
    const baseA = runs.find((r) => r.kind === 'base' && r.to === 'A')
    expect(await page.getByTestId('inside-run').inputValue()).toBe(baseA?.id)
    await expect.poll(() => page.getByTestId('inside-layer').inputValue(), { timeout: 60_000 }).toBe('block3_conv1')
    await page.getByTestId('filters-grid').waitFor({ timeout: 120_000 })
  }, 150_000)

  it('compares with one model picker: the top bar’s, listing the transferred models', async () => {
    await page.getByTestId('inside-tab-compare').click()
    await page.getByTestId('compare-table').waitFor({ timeout: 120_000 })
    // The demo's two trained transfers (the folder experiment's 16 are planned, with no weights).
    const transfers = runs.filter((r) => r.kind === 'transfer' && r.bestEpoch !== null).map((r) => r.id).sort()
    expect(transfers).toHaveLength(2)
    // One picker in the whole view, now choosing among the transferred models only.
    expect(await page.getByTestId('view-inside').locator('select[aria-label*="model" i]').count()).toBe(1)
    expect(await page.getByTestId('compare-target').count()).toBe(0)
    const options = await page.getByTestId('inside-run').locator('option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value))
    expect(options.sort()).toEqual(transfers)
    const chosen = await page.getByTestId('inside-run').inputValue()
    expect(transfers).toContain(chosen)
    // The panel compares exactly the model chosen there; choosing the other one switches it.
    const other = transfers.find((id) => id !== chosen) as string
    await page.getByTestId('inside-run').selectOption(other)
    const variant = runs.find((r) => r.id === other)?.variant as string
    await expect.poll(() => page.getByTestId('panel-compare').locator('p.small strong').first().textContent(), { timeout: 60_000 }).toBe(`${variant} n=2 · A→B`)
    await page.getByTestId('compare-table').waitFor({ timeout: 120_000 })
    expect(problems).toEqual([])
  }, 150_000)

  it('keeps one project per tab: a second tab opens its own, and each keeps its own across reloads', async () => {
    const second = await session!.browser.newPage()
    second.on('pageerror', (e) => problems.push(`pageerror (second tab): ${e.message}`))
    await second.goto(served?.url ?? '')
    // A new tab starts in the project opened last …
    await second.getByTestId('project-name').getByText('Design study').waitFor({ timeout: 60_000 })
    await second.getByTestId('nav-home').click()
    await second.getByTestId('close-project').click()
    await second.getByTestId('new-name').fill('Second study')
    await second.getByTestId('new-dir').fill(join(work, 'projects', 'second'))
    await second.getByTestId('new-create').click()
    await second.getByTestId('project-name').getByText('Second study').waitFor()
    // … and what it does there leaves the first tab where it was.
    await page.waitForTimeout(500)
    expect(await text('project-name')).toBe('Design study')
    await page.reload()
    await page.getByTestId('project-name').getByText('Design study').waitFor({ timeout: 60_000 })
    await second.reload()
    await second.getByTestId('project-name').getByText('Second study').waitFor({ timeout: 60_000 })
    expect(await text('project-name')).toBe('Design study')
    await second.close()
    expect(problems).toEqual([])
  }, 120_000)

  it('takes screenshots of Home, Design, Data and Inside in both themes at 1280×800 and 1920×1080', async () => {
    const views = [
      { view: 'home', ready: `experiment-${FOLDER.id}` },
      { view: 'design', ready: 'network-picture' },
      { view: 'data', ready: 'class-grid' },
      { view: 'inside', ready: 'view-inside' }
    ] as const
    for (const size of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
      await page.setViewportSize(size)
      for (const theme of ['light', 'dark'] as const) {
        if ((await page.evaluate(() => document.documentElement.dataset['theme'])) !== theme) await page.getByTestId('theme-toggle').click()
        for (const { view, ready } of views) {
          await page.getByTestId(`nav-${view}`).click()
          // The Data view on the JPEG folder, with its counts.
          if (view === 'data' && HAVE_CIFAR) await page.getByTestId('dataset-folder').click()
          await page.getByTestId(ready).first().waitFor({ timeout: 60_000 })
          await page.waitForTimeout(150)
          await shot(`${view}-${theme}-${size.width}x${size.height}`)
        }
      }
    }
    await page.getByTestId('theme-toggle').click()
    expect(problems).toEqual([])
  }, 120_000)
})
