import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildArchive, closedPortUrl, md5, officialMembers, startArchiveServer, type TestServer } from '../engine/datasets-library/library-fixtures'
import { ARTIFACTS, CHROMIUM, type E2eSession, haveChromium, openWorkbench, type Served } from './harness'

// Getting data in, as a researcher does it, in Debian's Chromium against serve mode with the real
// engine: download a CIFAR-10-format archive (built here, a few records per file) from a throttled
// HTTP server on 127.0.0.1 through the mirror field and watch it progress; see it in the library and
// the dataset picker; remove it. A wrong MD5 fails in words and registers nothing; an unreachable
// server offers the manual way; an image folder with one broken file imports with the count shown.
// The serve fixture keeps its data folder inside the test's temporary folder, never the user's.
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let session: E2eSession | undefined
let work = ''
let served: Served | undefined
let http: TestServer | undefined
let archive: Buffer
let page: Page
const problems: string[] = []

/** Records per data file (6 files; the archive is a few tens of KB). */
const RECORDS = 24
/** The archive is sent in this many pieces, one every 100 ms: about four seconds. */
const PIECES = 40

beforeAll(async () => {
  if (!haveChromium) return
  session = await openWorkbench('wb-e2e-data-', problems)
  ;({ work, served, page } = session)
  archive = await buildArchive(officialMembers('cifar10', RECORDS))
  http = await startArchiveServer(archive, 'cifar-10-binary.tar.gz', { trickle: { bytes: Math.ceil(archive.length / PIECES), everyMs: 100 } })
}, 300_000)

afterAll(async () => {
  await session?.stop()
  await http?.close()
})

/** Screenshots in both themes (or those given), with `testId` scrolled into view; the theme goes back to light afterwards. */
async function shot(name: string, themes: ('light' | 'dark')[] = ['light', 'dark'], testId = 'library-panel'): Promise<void> {
  await page.getByTestId(testId).first().evaluate((el) => el.scrollIntoView({ block: 'start' }))
  for (const theme of themes) {
    const current = await page.evaluate('document.documentElement.dataset.theme')
    if (current !== theme) await page.getByTestId('theme-toggle').click()
    await page.screenshot({ path: join(ARTIFACTS, `data-library-${name}-${theme}.png`) })
  }
  if ((await page.evaluate('document.documentElement.dataset.theme')) !== 'light') await page.getByTestId('theme-toggle').click()
}

const downloadRow = () => page.locator('[data-testid^="job-"][data-kind="download"]').first()

async function setMirror(url: string, hash: string): Promise<void> {
  const mirror = page.getByTestId('mirror')
  if ((await mirror.getAttribute('open')) === null) await mirror.locator('summary').click()
  await page.getByTestId('mirror-url').fill(url)
  await page.getByTestId('mirror-md5').fill(hash)
}

describe.skipIf(!haveChromium)('getting data in, in Chromium', () => {
  it('downloads a CIFAR-10 archive from a mirror with progress, lists it with its classes, and removes it with its files', async () => {
    await page.goto(served?.url ?? '')
    await page.getByTestId('backend').getByText(/CPU · wasm/).waitFor({ timeout: 120_000 })
    await page.getByTestId('nav-data').click()
    await page.getByTestId('library-empty').waitFor()
    // The library lives in the test's own folder.
    expect(await page.getByTestId('library-panel').textContent()).toContain(join(work, 'server', 'data', 'datasets'))

    await setMirror(http?.url ?? '', md5(archive))
    await page.getByTestId('download-cifar10').click()
    const row = downloadRow()
    await row.waitFor()
    // Bytes climb while it downloads, with a rate and an ETA: sample the row until it finishes.
    const seen: number[] = []
    let rate = ''
    let total = ''
    let bar = 0
    let shots = false
    while ((await downloadRow().count()) > 0) {
      const snapshot = await row
        .evaluate((el) => ({
          state: el.getAttribute('data-state'),
          done: Number(el.querySelector('[data-testid="job-amount"]')?.getAttribute('data-done') ?? 0),
          total: el.querySelector('[data-testid="job-amount"]')?.getAttribute('data-total') ?? '',
          rate: el.querySelector('[data-testid="job-rate"]')?.textContent ?? '',
          bar: Number(el.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow') ?? 0)
        }))
        .catch(() => null)
      if (snapshot?.state === 'downloading') {
        if (snapshot.done > (seen.at(-1) ?? 0)) seen.push(snapshot.done)
        if (snapshot.rate) rate = snapshot.rate
        if (snapshot.total) total = snapshot.total
        bar = Math.max(bar, snapshot.bar)
        if (!shots && snapshot.rate && snapshot.done > archive.length / 8) {
          shots = true
          await shot('downloading', ['light', 'dark'], 'library-jobs')
        }
      }
      await page.waitForTimeout(40)
    }
    expect(total).toBe(String(archive.length))
    expect(seen.length).toBeGreaterThanOrEqual(4)
    expect(seen[0]).toBeLessThan(archive.length / 2)
    expect(rate).toMatch(/^\d+(\.\d)? (B|KB|MB)\/s$/)
    expect(bar).toBeGreaterThan(0)
    expect(shots).toBe(true)

    // In the library, with its classes and counts, and in the dataset picker.
    const entry = page.getByTestId('library-cifar10')
    await entry.waitFor({ timeout: 30_000 })
    expect(await entry.getAttribute('data-available')).toBe('true')
    expect(await entry.getByTestId('library-counts').textContent()).toBe(`${5 * RECORDS} train · ${RECORDS} test`)
    expect(await entry.getByTestId('library-image-size').textContent()).toBe('32×32 px')
    expect(await entry.getByTestId('library-classes').textContent()).toMatch(/^airplane, automobile, bird, cat, deer, dog … \+4 more$/)
    expect(await entry.getByTestId('library-location').textContent()).toContain(join(work, 'server', 'data', 'datasets'))
    expect(await entry.getByTestId('library-status').textContent()).toBe('available')
    const picked = page.getByTestId('dataset-cifar10')
    await picked.waitFor()
    expect(await picked.textContent()).toContain('10 classes')
    await picked.click()
    await page.getByTestId('class-truck').locator('img').first().waitFor()
    // Labels cycle 0…9 in every file of 24 records: airplane (label 0) has 3 per file.
    expect(await page.getByTestId('class-airplane').textContent()).toContain('15 train · 3 test')
    await shot('cifar10')

    // Remove it, files too (the library made them).
    await entry.getByTestId('library-remove').click()
    await entry.getByTestId('library-delete-files').check()
    await shot('remove-confirm', ['light'])
    await entry.getByTestId('library-confirm-remove').click()
    await page.getByTestId('library-empty').waitFor()
    await picked.waitFor({ state: 'detached' })
  })

  it('fails a download with a wrong MD5 in words and registers nothing', async () => {
    if (http) http.behaviour.trickle = undefined
    await setMirror(http?.url ?? '', '0123456789abcdef0123456789abcdef')
    await page.getByTestId('download-cifar10').click()
    const row = page.locator('[data-kind="download"][data-state="failed"]').first()
    await row.waitFor({ timeout: 30_000 })
    const failure = row.getByTestId('job-failure')
    expect(await failure.getAttribute('data-failure')).toBe('checksum')
    expect(await failure.textContent()).toMatch(/Checksum mismatch.*expected 0123456789abcdef0123456789abcdef.*nothing was registered/s)
    await page.getByTestId('library-empty').waitFor()
    expect(await page.getByTestId('dataset-cifar10').count()).toBe(0)
    await shot('checksum-failed', ['light', 'dark'], 'library-jobs')
    await row.getByTestId('job-dismiss').click()
    await row.waitFor({ state: 'detached' })
  })

  it('says when the server cannot be reached, with the manual way and an import shortcut', async () => {
    await setMirror(await closedPortUrl(), '')
    await page.getByTestId('download-cifar10').click()
    const row = page.locator('[data-kind="download"][data-state="failed"]').first()
    await row.waitFor({ timeout: 60_000 })
    expect(await row.getByTestId('job-failure').getAttribute('data-failure')).toBe('offline')
    expect((await row.getByTestId('job-manual').textContent())?.length).toBeGreaterThan(20)
    await row.getByTestId('job-import').click()
    expect(await page.evaluate('document.activeElement?.dataset?.testid')).toBe('import-path')
    await shot('offline', ['light', 'dark'], 'library-jobs')
    await row.getByTestId('job-dismiss').click()
    await setMirror('', '')
  })

  it('imports an image folder and shows how many files could not be read', async () => {
    const root = join(work, 'pets')
    for (const [c, cls] of ['cats', 'dogs'].entries()) {
      await mkdir(join(root, cls), { recursive: true })
      for (let i = 0; i < 3; i++) {
        const png = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 200 * c, g: 40 * i, b: 120 } } }).png().toBuffer()
        await writeFile(join(root, cls, `${i}.png`), png)
      }
    }
    await writeFile(join(root, 'dogs', 'broken.png'), 'not a png')

    await page.getByTestId('import-path').fill(root)
    await page.getByTestId('import-name').fill('pets')
    await page.getByTestId('import-start').click()
    const entry = page.getByTestId('library-pets')
    await entry.waitFor({ timeout: 60_000 })
    expect(await entry.getByTestId('library-unreadable').getAttribute('data-count')).toBe('1')
    expect(await entry.getByTestId('library-classes').textContent()).toBe('cats, dogs')
    await entry.locator('details summary').click()
    expect(await entry.locator('details').textContent()).toContain('broken.png')
    await page.getByTestId('dataset-folder').first().waitFor()
    await shot('import-unreadable')
    // A folder registered in place: removing it never offers to delete the files.
    await entry.getByTestId('library-remove').click()
    expect(await entry.getByTestId('library-delete-files').count()).toBe(0)
    await entry.getByTestId('library-confirm-remove').click()
    await page.getByTestId('library-empty').waitFor()
  })

  it('cancels a download mid-way and says the partial file is kept', async () => {
    if (http) http.behaviour.trickle = { bytes: Math.ceil(archive.length / PIECES), everyMs: 100 }
    await setMirror(http?.url ?? '', md5(archive))
    await page.getByTestId('download-cifar10').click()
    const row = downloadRow()
    await row.locator('[data-testid="job-rate"]').waitFor({ timeout: 10_000 })
    await row.getByTestId('job-cancel').click()
    const cancelled = page.locator('[data-kind="download"][data-state="cancelled"]').first()
    await cancelled.waitFor({ timeout: 10_000 })
    expect(await cancelled.getByTestId('job-failure').textContent()).toMatch(/partial file is kept/)
    await page.getByTestId('library-empty').waitFor()
    await shot('cancelled', ['light'], 'library-jobs')
    expect(problems).toEqual([])
  })
})
