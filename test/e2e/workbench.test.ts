import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, CHROMIUM, type E2eSession, haveChromium, openWorkbench, type Served, until } from './harness'

// The workbench as a researcher uses it, in Debian's Chromium against serve mode with the real engine
// (wasm backend, tiny models): create a project, drag classes into groups, set n on the network
// picture, run a small sweep and watch it, cancel a run and resume it, reopen the project and read
// the results. Screenshots of every view (both themes, both sizes) go to test-results/e2e/.
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let session: E2eSession | undefined
let work = ''
let served: Served | undefined
let page: Page
const problems: string[] = []

/** Tiny runs that still take a few seconds each, so a cancel lands mid-run and charts gain points. */
const SETTINGS = { width: '0.0625', epochs: '6', batch: '16', perClass: '96' }
const EPOCHS = Number(SETTINGS.epochs)

beforeAll(async () => {
  if (!haveChromium) return
  session = await openWorkbench('wb-e2e-', problems)
  ;({ work, served, page } = session)
}, 300_000)

afterAll(async () => {
  await session?.stop()
})

// "tour-": the other browser tests save their own views under the plain names.
const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `tour-${name}.png`) })

/** A number kept in a data attribute (chart point counts). */
async function attrNumber(testId: string, attr = 'data-points'): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute(attr))
}

/** Waits until `read` gives a value that `ok` accepts. */

/** Browser-side: requestAnimationFrame deltas (ms) over three seconds. A string: it runs in the page, not in Node. */
const FRAME_TIMES_SCRIPT = `new Promise((resolve) => {
  const out = []
  let last = performance.now()
  const end = last + 3000
  const tick = (now) => {
    out.push(now - last)
    last = now
    if (now < end) requestAnimationFrame(tick)
    else resolve(out)
  }
  requestAnimationFrame(tick)
})`

const rowStatus = (runId: string): Promise<string | null> => page.getByTestId(`queue-row-${runId}`).getAttribute('data-status')

/** The queue's run ids in the order shown. */
async function queueIds(): Promise<string[]> {
  const ids = await page.locator('[data-testid^="queue-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid') ?? ''))
  return ids.map((id) => id.replace('queue-row-', ''))
}

describe.skipIf(!haveChromium)('the workbench in Chromium', () => {
  it('creates a project, drags classes into two groups, and sets n by clicking the network picture', async () => {
    await page.goto(served?.url ?? '')
    // The backend is always visible once the engine has found it.
    await page.getByTestId('backend').getByText(/CPU · wasm, \d+ training thread/).waitFor({ timeout: 120_000 })
    await shot('home-start-light-1280x800')

    await page.getByTestId('new-name').fill('E2E study')
    await page.getByTestId('new-dir').fill(join(work, 'projects', 'study'))
    await page.getByTestId('new-create').click()
    await page.getByTestId('project-name').getByText('E2E study').waitFor()
    // The data view opens with real thumbnails and counts.
    await page.getByTestId('class-disc').locator('img').first().waitFor()
    expect(await page.getByTestId('class-disc').textContent()).toMatch(/300 train · 100 test/)

    await page.getByTestId('nav-design').click()
    await page.getByTestId('chip-stripes-h').locator('img').waitFor()
    // Drag three classes into A and three into B; one of each by keyboard (1 / 2 on a focused chip).
    await page.getByTestId('chip-stripes-h').dragTo(page.getByTestId('group-A'))
    await page.getByTestId('chip-checker').dragTo(page.getByTestId('group-A'))
    await page.getByTestId('chip-disc').dragTo(page.getByTestId('group-B'))
    await page.getByTestId('chip-ring').dragTo(page.getByTestId('group-B'))
    await page.getByTestId('chip-stripes-v').focus()
    await page.keyboard.press('1')
    await page.getByTestId('chip-cross').focus()
    await page.keyboard.press('2')
    // A chip dragged from one group to the other moves; dragged back to the pool it leaves.
    await page.getByTestId('chip-dots').dragTo(page.getByTestId('group-A'))
    await page.getByTestId('group-A-dots').dragTo(page.getByTestId('group-B'))
    await page.getByTestId('group-B-dots').dragTo(page.getByTestId('class-pool'))
    await expect(page.getByTestId('group-A').locator('[data-testid^="group-A-"]').allTextContents()).resolves.toEqual([
      expect.stringContaining('stripes-h'),
      expect.stringContaining('stripes-v'),
      expect.stringContaining('checker')
    ])
    expect(await page.getByTestId('group-B').locator('[data-testid^="group-B-"]').count()).toBe(3)
    expect(await page.getByTestId('group-B-dots').count()).toBe(0)

    // One depth: click layer 3 of the picture. Layers 1–3 are copied, 4 on re-initialized.
    await page.getByTestId('mode-single').click()
    await page.getByTestId('layer-3').click()
    expect(await page.getByTestId('layer-3').getAttribute('aria-pressed')).toBe('true')
    expect(await page.getByTestId('layer-3').getAttribute('data-role')).toBe('copied')
    expect(await page.getByTestId('layer-4').getAttribute('data-role')).toBe('reinit')
    expect(await page.getByTestId('network-picture').getByText('block2_conv1').count()).toBe(1)

    await page.getByTestId('cfg-width').selectOption(SETTINGS.width)
    for (const [id, value] of [
      ['cfg-epochs', SETTINGS.epochs],
      ['cfg-batch', SETTINGS.batch],
      ['cfg-per-class', SETTINGS.perClass]
    ] as const) {
      await page.getByTestId(id).fill(value)
      await page.getByTestId(id).press('Tab')
    }
    // Bases A and B, AnB and BnB at n = 3, with a time estimate before anything starts.
    await page.getByTestId('plan-count').getByText('4 runs').waitFor()
    expect(await page.getByTestId('time-estimate').textContent()).toMatch(/≈ .*\d+ s/)
    await shot('design-light-1280x800')
  }, 300_000)

  it('starts the sweep; the charts gain points while it runs and frames stay smooth', async () => {
    await page.getByTestId('save-and-run').click()
    await page.getByTestId('sweep-state').getByText('running').waitFor()
    await page.getByTestId('detail-progress').getByText(/epoch \d+\/6 · batch \d+\/\d+/).waitFor({ timeout: 120_000 })

    // Measure frame times while events stream in (requestAnimationFrame deltas over three seconds).
    const before = await attrNumber('chart-batch')
    const deltas = (await page.evaluate(FRAME_TIMES_SCRIPT)) as number[]
    const after = await attrNumber('chart-batch')
    const sorted = [...deltas].sort((a, b) => a - b)
    const worst = sorted[sorted.length - 1] as number
    const p95 = sorted[Math.floor(sorted.length * 0.95)] as number
    console.log(`frame times while streaming: ${deltas.length} frames, p95 ${p95.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; batch points ${before} → ${after}`)
    expect(after).toBeGreaterThan(before)
    // Generous: a 2-core machine trains beside the browser. A blocked view would show seconds here.
    expect(worst).toBeLessThan(1000)
    expect(p95).toBeLessThan(250)
    await shot('monitor-running-light-1280x800')
  }, 300_000)

  it('cancels one run of the sweep and resumes it to the end', async () => {
    const ids = await queueIds()
    const target = ids.find((id) => id.startsWith('AnB-')) as string
    expect(target).toBeDefined()
    await until(() => rowStatus(target), (s) => s === 'running', 240_000, `${target} to start`)
    await page.getByTestId(`queue-row-${target}`).locator('.qpick').click()
    // Cancel as soon as it trains (a fast machine may finish a tiny run in a second or two).
    await page.getByTestId('detail-progress').getByText(/epoch \d\/6 · batch/).waitFor({ timeout: 120_000 })
    await page.getByTestId(`run-cancel-${target}`).click()
    await until(() => rowStatus(target), (s) => s === 'cancelled', 60_000, `${target} to be cancelled`)
    expect(await page.getByTestId('detail-problem').textContent()).toMatch(/Cancelled after \d epoch/)

    // The sweep goes on with the other runs; then the cancelled one resumes.
    // The sweep ends with one run cancelled: 'incomplete', not 'done' (issue 18, item 4).
    await page.getByTestId('sweep-state').getByText('incomplete').waitFor({ timeout: 240_000 })
    await page.getByTestId(`run-resume-${target}`).click()
    await until(() => rowStatus(target), (s) => s === 'done', 240_000, `${target} to finish after resuming`)
    for (const id of ids) expect(await rowStatus(id)).toBe('done')
    // Every epoch is in the metrics once: the resumed run continued where it stopped.
    const metrics = (await readFile(join(work, 'projects', 'study', 'runs', target, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; epoch: number })
      .filter((m) => m.type === 'epoch')
      .map((m) => m.epoch)
    expect(metrics).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1))
    await page.getByTestId('chart-acc').waitFor()
    await until(() => attrNumber('chart-acc'), (n) => n === EPOCHS, 10_000, 'all epochs in the accuracy chart')
  }, 600_000)

  it('reopens the project and finds every result as it was', async () => {
    await page.getByTestId('nav-home').click()
    await page.getByTestId('close-project').click()
    await page.getByTestId('recent-study').click()
    await page.getByTestId('project-name').getByText('E2E study').waitFor()
    await page.getByTestId('nav-results').click()
    // AnB and BnB at n = 3, and the baseline's two ends.
    await until(() => attrNumber('chart-curve'), (n) => n === 4, 30_000, 'the transfer curve')
    expect(await page.getByTestId('runs-table').locator('tbody tr').count()).toBe(4)
    expect(await page.getByTestId('runs-table').locator('tbody .badge.done').count()).toBe(4)
    // Filter by variant, sort by accuracy.
    await page.getByTestId('filter-AnB').click()
    expect(await page.getByTestId('runs-table').locator('tbody tr').count()).toBe(1)
    await page.getByTestId('filter-AnB').click()
    await page.getByTestId('sort-bestValAcc').click()
    // Per-class accuracy and the confusion matrix of one run.
    await page.getByTestId('runs-table').locator('tbody tr').first().getByRole('button', { name: 'Per class' }).click()
    await page.getByTestId('chart-per-class').waitFor({ timeout: 120_000 })
    await page.getByTestId('confusion').waitFor()
    await page.getByTestId('evaluation').screenshot({ path: join(ARTIFACTS, 'results-per-class-light.png') })
    // Compare two runs' curves.
    await page.getByRole('checkbox', { name: /Compare base A/ }).check()
    await page.getByRole('checkbox', { name: /Compare base B/ }).check()
    await until(() => attrNumber('chart-overlay'), (n) => n === 2 * EPOCHS, 10_000, 'two runs overlaid')
    await shot('results-light-1280x800')
  }, 300_000)

  it('shows every view tidy in both themes at 1280×800 and 1920×1080', async () => {
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 }
    ]) {
      await page.setViewportSize(size)
      for (const theme of ['light', 'dark'] as const) {
        const current = await page.evaluate('document.documentElement.dataset.theme')
        if (current !== theme) await page.getByTestId('theme-toggle').click()
        for (const view of ['home', 'data', 'design', 'monitor', 'results'] as const) {
          await page.getByTestId(`nav-${view}`).click()
          await page.waitForTimeout(view === 'results' || view === 'data' ? 800 : 300)
          await shot(`${view}-${theme}-${size.width}x${size.height}`)
          if (view === 'design' || view === 'results' || view === 'monitor') {
            // The lower half of the long views too.
            await page.evaluate("document.querySelector('main.content').scrollTo({ top: 100000 })")
            await page.waitForTimeout(200)
            await shot(`${view}-${theme}-${size.width}x${size.height}-bottom`)
          }
        }
      }
    }
    expect(problems).toEqual([])
  }, 300_000)
})
