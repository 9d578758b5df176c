import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Experiment } from '../../src/shared/project'
import { ARTIFACTS, CHROMIUM, connectApi, type E2eSession, haveChromium, openWorkbench, until } from './harness'

// The monitor in Chromium against serve mode with the real engine (wasm backend, demo dataset,
// width 1/16, one epoch, six runs): the queue shows the order runs train in and they train in it; a
// run cancelled mid-sweep says so truthfully and, resumed while the sweep runs, joins the queue and
// trains next; a cancelled run left behind gives "5 of 6 done · 1 cancelled" and Continue; two runs
// overlaid on the charts with smoothing, a log axis and the three x axes; the time estimate says
// whose speed it uses. Screenshots in both themes at 1280×800 and 1920×1080.
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let session: E2eSession | undefined
let page: Page
let projectDir = ''
const problems: string[] = []

// Depths and variants listed out of order: the planner's order is not the run order by accident.
const EXPERIMENT: Experiment = {
  id: 'monitor-e2e',
  name: 'Monitor study',
  dataset: 'demo',
  groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['BnB', 'AnB'], n: [2, 1] }],
  // Enough batches (23 an epoch) that a cancel lands mid-run.
  config: { width: 1 / 16, epochs: 1, batchSize: 16, trainPerClass: 120, logEveryBatches: 1 }
}

beforeAll(async () => {
  if (!haveChromium) return
  session = await openWorkbench('wb-e2e-monitor-', problems)
  page = session.page
  // The project and its experiment on disk through the API; the page opens it as a user would.
  projectDir = join(session.work, 'projects', 'monitor')
  const api = connectApi(session.served)
  await api.api.createProject({ dir: projectDir, name: 'Monitor study' })
  await api.api.saveExperiment({ experiment: EXPERIMENT })
  await api.api.closeProject()
  api.close()
}, 300_000)

afterAll(async () => {
  await session?.stop()
})

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
const attr = (testId: string, name: string): Promise<string | null> => page.getByTestId(testId).getAttribute(name)
const rowStatus = (id: string): Promise<string | null> => attr(`queue-row-${id}`, 'data-status')

/** The queue's rows as shown: id, place and order number. */
const QUEUE_SCRIPT = `[...document.querySelectorAll('[data-testid^="queue-row-"]')].map((el) => ({
  id: (el.getAttribute('data-testid') || '').replace('queue-row-', ''),
  status: el.getAttribute('data-status'),
  place: el.getAttribute('data-place'),
  order: el.getAttribute('data-order')
}))`
type Row = { id: string; status: string; place: string; order: string }
const rows = async (): Promise<Row[]> => (await page.evaluate(QUEUE_SCRIPT)) as Row[]
/** Ids of the rows that will train, in the order shown (1, 2, …). */
const shownNext = async (): Promise<string[]> =>
  (await rows())
    .filter((r) => r.order)
    .sort((a, b) => Number(a.order) - Number(b.order))
    .map((r) => r.id)

/** Records every run the page shows starting to train, in order (polled; each run trains for seconds). */
function watchStarts(): { starts: string[]; stop(): void } {
  const starts: string[] = []
  let last = ''
  let stopped = false
  const poll = async (): Promise<void> => {
    while (!stopped) {
      const running = (await rows().catch(() => [] as Row[])).find((r) => r.status === 'running')?.id ?? ''
      if (running && running !== last) starts.push(running)
      last = running
      await new Promise((r) => setTimeout(r, 80))
    }
  }
  void poll()
  return { starts, stop: () => void (stopped = true) }
}

describe.skipIf(!haveChromium)('the monitor in Chromium', () => {
  it('trains in the order shown; a cancelled run re-queued during the sweep trains next; the status never contradicts itself', async () => {
    await page.goto(session?.served.url ?? '')
    await page.getByTestId('open-dir').fill(projectDir)
    await page.getByTestId('open-submit').click()
    await page.getByTestId('project-name').getByText('Monitor study').waitFor({ timeout: 60_000 })
    await page.getByTestId('nav-monitor').click()

    const order = await until(shownNext, (ids) => ids.length === 6, 30_000, 'six runs in the queue')
    expect(order.slice(0, 2).every((id) => id.startsWith('base-'))).toBe(true)
    expect(await page.getByTestId('sweep-summary').textContent()).toBe('0 of 6 done · 6 not started')
    expect(await page.getByTestId('sweep-start').textContent()).toMatch(/Start sweep/)

    const watch = watchStarts()
    await page.getByTestId('sweep-start').click()
    // Before any run has measured a speed, the estimate says it uses the benchmark.
    await until(() => attr('monitor-estimate', 'data-source').catch(() => null), (s) => s === 'benchmark' || s === 'guess', 30_000, 'an estimate from the benchmark')

    // Cancel the first transfer as soon as it trains.
    const target = order[2] as string
    await until(() => rowStatus(target), (s) => s === 'running', 120_000, `${target} to start`)
    await page.getByTestId('detail-progress').getByText(/batch \d+\/\d+/).waitFor({ timeout: 60_000 })
    await page.getByTestId(`run-cancel-${target}`).click()
    await until(() => rowStatus(target), (s) => s === 'cancelled', 60_000, `${target} to be cancelled`)
    const next = order[3] as string
    await until(() => rowStatus(next), (s) => s === 'running', 60_000, `${next} to start`)
    // Passed by the sweep: held, and said so in the one status line.
    expect(await attr(`queue-row-${target}`, 'data-place')).toBe('held')
    expect(await page.getByTestId('sweep-summary').textContent()).toBe('2 of 6 done · 1 running · 1 cancelled · 2 not started')
    await shot('monitor-cancelled-light-1280x800')

    // Resume while the sweep runs: it joins the queue, first.
    await page.getByTestId(`run-resume-${target}`).click()
    await until(() => rowStatus(target), (s) => s === 'queued', 10_000, `${target} to be queued`)
    const queuedOrder = await shownNext()
    expect(queuedOrder).toEqual([target, order[4], order[5]])
    // Runs of this shape have measured their speed by now: the estimate uses it and says so.
    expect(await attr('monitor-estimate', 'data-source')).toBe('measured')
    expect(await page.getByTestId('monitor-estimate').textContent()).toMatch(/speed measured in this project/)

    // Cancel the last run and leave it: the sweep ends with one run not done.
    const last = order[5] as string
    await until(() => rowStatus(last), (s) => s === 'running', 120_000, `${last} to start`)
    await page.getByTestId('detail-progress').getByText(/batch \d+\/\d+/).waitFor({ timeout: 60_000 })
    await page.getByTestId(`run-cancel-${last}`).click()
    await until(() => page.getByTestId('sweep-state').textContent(), (s) => s === 'incomplete', 60_000, 'the sweep to end incomplete')
    watch.stop()
    // What ran, in order: the order shown before the sweep, with the re-queued run right after the
    // run it waited for — the order the queue showed once it was queued.
    expect(watch.starts).toEqual([order[0], order[1], target, next, ...queuedOrder])
    expect(await page.getByTestId('sweep-summary').textContent()).toBe('5 of 6 done · 1 cancelled')
    expect(await page.getByTestId('sweep-start').textContent()).toMatch(/Continue sweep \(1 to run\)/)
    expect(await page.getByTestId('sweep-start').evaluate((el) => el.tagName === 'BUTTON' && el.classList.contains('primary'))).toBe(true)
    expect(await page.getByTestId('sweep-message').count()).toBe(0)

    await page.getByTestId('sweep-start').click()
    await until(() => page.getByTestId('sweep-state').textContent(), (s) => s === 'done', 120_000, 'all runs done')
    expect(await page.getByTestId('sweep-summary').textContent()).toBe('6 of 6 done')
    // Nothing left: a quiet note, not a disabled primary button.
    const allDone = page.getByTestId('sweep-start')
    expect(await allDone.textContent()).toMatch(/All runs done/)
    expect(await allDone.evaluate((el) => el.tagName !== 'BUTTON' && !el.classList.contains('primary'))).toBe(true)
  }, 300_000)

  it('overlays two runs with smoothing, a log axis and step / epoch / time axes; a one-epoch run has no empty 1–2 axis', async () => {
    const order = (await rows()).map((r) => r.id)
    const [a, b] = [order.find((id) => id.startsWith('AnB-')) as string, order.find((id) => id.startsWith('BnB-')) as string]
    await page.getByTestId(`queue-row-${a}`).locator('.qpick').click()
    await until(() => attr('chart-batch', 'data-points'), (n) => Number(n) > 10, 10_000, 'the batch chart')
    // One epoch: the epoch axis sits around it.
    expect([await attr('chart-acc', 'data-x-min'), await attr('chart-acc', 'data-x-max')]).toEqual(['0.5', '1.5'])
    expect(await page.getByTestId('chart-acc-empty').count()).toBe(0)
    expect(await attr('chart-acc', 'data-datasets')).toBe('2')

    await page.getByTestId(`overlay-${b}`).check()
    await until(() => attr('chart-acc', 'data-datasets'), (n) => n === '4', 10_000, 'two runs on the accuracy chart')
    expect(await attr('chart-batch', 'data-datasets')).toBe('2')
    expect(await page.getByTestId('overlay-list').textContent()).toMatch(/2 runs: AnB n=\d · A→B, BnB n=\d · B→B/)

    const rawY = await attr('chart-batch', 'data-last-y')
    await page.getByTestId('smoothing').evaluate((el: HTMLInputElement) => {
      el.value = '0.9'
      el.dispatchEvent(new Event('input', { bubbles: true }))
    })
    await until(() => attr('chart-batch', 'data-last-y'), (y) => y !== rawY, 5_000, 'smoothing to change the curve')

    await page.getByTestId('log-scale').check()
    expect(await attr('chart-loss', 'data-scale')).toBe('logarithmic')
    for (const mode of ['step', 'time', 'epoch'] as const) {
      await page.getByTestId(`x-${mode}`).click()
      expect(await page.locator('.charts').getAttribute('data-x')).toBe(mode)
      expect(await attr(`x-${mode}`, 'aria-pressed')).toBe('true')
    }
    await page.getByTestId('x-step').click()

    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 }
    ]) {
      await page.setViewportSize(size)
      for (const theme of ['light', 'dark'] as const) {
        if ((await page.evaluate('document.documentElement.dataset.theme')) !== theme) await page.getByTestId('theme-toggle').click()
        await page.waitForTimeout(300)
        await shot(`monitor-${theme}-${size.width}x${size.height}`)
      }
    }
    expect(problems).toEqual([])
  }, 120_000)
})
