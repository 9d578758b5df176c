import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import type { Experiment } from '../../src/shared/project'
import { ARTIFACTS, CHROMIUM, connectApi, type E2eSession, haveChromium, openWorkbench, type Served, until as pollUntil } from './harness'

// The Features view in Chromium against serve mode with the real engine (wasm backend): a tiny base
// trained through the API, then a small frozen-feature study run from the form (progress, charts with
// the right number of points, the speed-up), a second study cancelled mid-way, screenshots in both themes.
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let session: E2eSession | undefined
let work = ''
let served: Served | undefined
let client: WorkbenchClient | undefined
let page: Page
const problems: string[] = []

const EXPERIMENT: Experiment = {
  id: 'feat-demo',
  name: 'Features demo',
  dataset: 'demo',
  groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: ['A'],
  transfers: [],
  config: { width: 1 / 16, epochs: 2, batchSize: 16, trainPerClass: 32 }
}

beforeAll(async () => {
  if (!haveChromium) return
  session = await openWorkbench('wb-e2e-features-', problems)
  ;({ work, served, page } = session)
  client = connectApi(served)
}, 300_000)

afterAll(async () => {
  client?.close()
  await session?.stop()
})

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
const attrNumber = async (testId: string, attr = 'data-points'): Promise<number> => Number(await page.getByTestId(testId).getAttribute(attr))

/** Waits until `read` gives a value that `ok` accepts. */
const until = <T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> => pollUntil(read, ok, timeoutMs, what, 50)

async function setField(testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value)
  await page.getByTestId(testId).press('Tab')
}

describe.skipIf(!haveChromium)('the Features view in Chromium', () => {
  it('trains a tiny base through the API, then runs a small study from the form and charts it', async () => {
    const api = client!.api
    await api.createProject({ dir: join(work, 'projects', 'features'), name: 'Features e2e' })
    await api.saveExperiment({ experiment: EXPERIMENT })
    const ended = new Promise<string>((resolve) => {
      const off = client!.on('sweep:status', (e) => {
        if (e.status.state !== 'running') {
          off()
          resolve(e.status.state)
        }
      })
    })
    await api.startSweep()
    expect(await ended).toBe('done')
    const base = (await api.getProject())!.runs.find((r) => r.kind === 'base' && r.to === 'A')!
    expect(base.status).toBe('done')

    await page.goto(served?.url ?? '')
    await page.getByTestId('project-name').getByText('Features e2e').waitFor({ timeout: 60_000 })
    await page.getByTestId('nav-features').click()
    await page.getByTestId('fs-empty').waitFor()
    // The base run is picked, its layers loaded: fc1 to learn from, the other group's classes, block ends to probe.
    await expect(page.getByTestId('fs-run').inputValue()).resolves.toBe(base.id)
    await until(() => page.getByTestId('fs-layer').count(), (n) => n === 1, 30_000, 'the layer list')
    expect(await page.getByTestId('fs-layer').inputValue()).toBe('fc1')
    expect(await page.getByTestId('fs-classes').inputValue()).toBe('disc, ring, cross')
    await shot('features-form-light-1280x800')

    await setField('fs-shots', '2, 4')
    await setField('fs-draws', '1')
    // Every test image by default; 4 per class here keeps the run short.
    expect(await page.getByTestId('fs-test-per-class').inputValue()).toBe('all')
    await setField('fs-test-per-class', '4')
    await page.getByTestId('fs-probes-none').click()
    await page.getByTestId('fs-probe-block2_conv1').check()
    await setField('fs-temperatures', '1, 4')
    expect(await page.getByTestId('fs-time-full').isChecked()).toBe(true)
    await page.getByTestId('fs-start').click()

    // The bar moves: several distinct (phase, done) states before the result.
    await page.getByTestId('fs-progress').waitFor()
    const seen = new Set<string>()
    await until(
      async () => {
        // One read in the page: the bar can vanish between two separate Playwright calls.
        const state = await page.evaluate(() => {
          const bar = document.querySelector('[data-testid="fs-progress"]')
          return bar ? `${bar.getAttribute('data-phase')}:${bar.getAttribute('data-done')}` : null
        })
        if (state === null) return 'gone'
        if (seen.size === 1 && !seen.has(state)) await shot('features-running-light-1280x800').catch(() => undefined)
        seen.add(state)
        return 'running'
      },
      (state) => state === 'gone',
      240_000,
      'the study to end'
    )
    console.log(`progress states seen: ${[...seen].join(' ')}`)
    expect(seen.size).toBeGreaterThanOrEqual(2)

    await page.getByTestId('fs-result').waitFor()
    expect(await attrNumber('fs-chart-shots')).toBe(2)
    expect(await attrNumber('fs-chart-probes')).toBe(1)
    expect(await attrNumber('fs-chart-temperature')).toBe(2)
    // Train and test curves for each k.
    expect(await attrNumber('fs-chart-curve-acc')).toBe(4)
    expect(await page.getByTestId('fs-table-shots').locator('tbody tr').count()).toBe(2)
    // Each accuracy with its std, Wilson 95 % interval and test-set size.
    expect(await page.getByTestId('fs-test-set').textContent()).toBe('12 test images (4 per class)')
    const cells = await page.getByTestId('fs-table-shots').locator('tbody tr').first().locator('td').allTextContents()
    expect(cells.slice(1, 4)).toEqual([expect.stringMatching(/^\d+\.\d% ± \d+\.\d%$/), expect.stringMatching(/^\d+\.\d–\d+\.\d%$/), '12'])
    expect(await page.getByTestId('fs-uncertainty').textContent()).toMatch(/Wilson 95% interval on the 12 test images/)
    expect(await page.getByTestId('fs-speedup').textContent()).toMatch(/\d+(\.\d)?×/)
    expect(await page.getByTestId('fs-full-epoch').textContent()).toMatch(/\d/)
    await page.evaluate("document.querySelector('main.content').scrollTo({ top: 0 })")
    await shot('features-result-light-1280x800')

    // The result stays when the user goes elsewhere and comes back.
    await page.getByTestId('nav-home').click()
    await page.getByTestId('nav-features').click()
    expect(await attrNumber('fs-chart-shots')).toBe(2)
  }, 600_000)

  it('cancels a second, longer study and keeps the last result', async () => {
    // VGG11 at width 1/16: block1_conv1 flattened is 32·32·4 numbers per image, and a 256-image pool per class.
    await page.getByTestId('fs-layer').selectOption('block1_conv1')
    await page.getByTestId('fs-pooling').selectOption('flatten')
    await setField('fs-shots', '2, 4, 8, 16, 32, 64')
    await setField('fs-draws', '10')
    await setField('fs-test-per-class', '32')
    await page.getByTestId('fs-start').click()
    await page.getByTestId('fs-progress').waitFor()
    await until(() => page.getByTestId('fs-cancel').isEnabled(), (on) => on, 30_000, 'Cancel to be enabled')
    await page.getByTestId('fs-cancel').click()
    await page.getByTestId('fs-outcome').getByText('Cancelled').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('fs-progress').count()).toBe(0)
    // The first study's charts are still the ones shown; Run is available again.
    expect(await attrNumber('fs-chart-shots')).toBe(2)
    expect(await page.getByTestId('fs-start').isEnabled()).toBe(true)
  }, 300_000)

  it('looks tidy in both themes at 1280×800 and 1920×1080', async () => {
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 }
    ]) {
      await page.setViewportSize(size)
      for (const theme of ['light', 'dark'] as const) {
        const current = await page.evaluate('document.documentElement.dataset.theme')
        if (current !== theme) await page.getByTestId('theme-toggle').click()
        await page.evaluate("document.querySelector('main.content').scrollTo({ top: 0 })")
        await page.waitForTimeout(300)
        await shot(`features-${theme}-${size.width}x${size.height}`)
        await page.evaluate("document.querySelector('main.content').scrollTo({ top: 100000 })")
        await page.waitForTimeout(200)
        await shot(`features-${theme}-${size.width}x${size.height}-bottom`)
      }
    }
    expect(problems).toEqual([])
  }, 120_000)
})
