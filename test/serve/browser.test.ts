import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The whole path a user takes: `npm run serve` (the real CLI command), Chromium opening the printed
// URL, the page starting a demo run, and progress arriving over the WebSocket from the real engine.
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium) console.warn(`skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let serve: ChildProcess | undefined
let browser: BrowserContext | undefined
let url = ''

/** Starts `cli serve` on a free port and resolves with the URL it prints. */
function startServe(dir: string): Promise<string> {
  const root = resolve(import.meta.dirname, '../..')
  serve = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '--port', '0', '--runs', join(dir, 'runs'), '--settings', join(dir, 'settings.json')], {
    cwd: root,
    env: { ...process.env, WORKBENCH_BACKEND: 'wasm' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return new Promise((resolveUrl, reject) => {
    let out = ''
    serve?.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out)
      if (match) resolveUrl(match[1] as string)
    })
    serve?.once('exit', (code) => reject(new Error(`serve exited (code ${code}) before printing a URL:\n${out}`)))
  })
}

beforeAll(async () => {
  if (!haveChromium) return
  const dir = await mkdtemp(join(tmpdir(), 'wb-browser-'))
  url = await startServe(dir)
  // A fresh profile every time (Playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}, 300_000)

afterAll(async () => {
  await browser?.close()
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve?.once('exit', r))
    serve.kill('SIGTERM')
    await exited
  }
})

describe.skipIf(!haveChromium)('serve mode in Chromium', () => {
  it('prints a loopback URL with a token; the page refuses to load without it', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/)
    const page = await (browser as BrowserContext).newPage()
    const response = await page.goto(url.replace(/\?token=.*/, ''))
    expect(response?.status()).toBe(401)
    await page.close()
  })

  it('starts a demo run from the page and shows its progress arriving over the socket', async () => {
    const page = await (browser as BrowserContext).newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    await page.goto(url)
    await page.getByTestId('engine').getByText(/trainer/).waitFor()
    await page.getByTestId('start-demo').click()
    // Progress figures arrive, and keep arriving, over the WebSocket.
    await page.getByTestId('run-progress').getByText(/epoch \d+\/2 · batch \d+\/5/).waitFor({ timeout: 120_000 })
    await page.getByTestId('run-status').getByText(/^done/).waitFor({ timeout: 120_000 })
    const events = Number((await page.getByTestId('progress-events').textContent())?.match(/\d+/)?.[0])
    expect(events).toBeGreaterThanOrEqual(2)
    expect(await page.getByTestId('run-progress').textContent()).toMatch(/epoch 2\/2 · batch 5\/5/)
    await expect(page.getByTestId('run-outcome').textContent()).resolves.toMatch(/best val acc \d\.\d{3}/)
    // No CSP violation or script error on the way.
    expect(problems).toEqual([])
    await page.close()
  })
})
