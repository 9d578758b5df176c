/**
 * Shared pieces of the browser tests: build the renderer into a private folder, start the serve
 * fixture on a free port with the wasm backend, launch Debian's Chromium with a fresh profile.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { build } from 'vite'
import { WebSocket as NodeWebSocket } from 'ws'
import { createWorkbenchClient, type WorkbenchClient } from '../../src/shared/rpc-client'
import type { WorkbenchEvent } from '../../src/shared/contract'
import { detectTransport } from '../../src/renderer/src/api/transport'

export const ROOT = resolve(import.meta.dirname, '../..')
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
export const haveChromium = existsSync(CHROMIUM)
/** Screenshots and other artifacts (gitignored). */
export const ARTIFACTS = join(ROOT, 'test-results', 'e2e')

/** Builds the renderer as electron-vite does (same root, entry and plugin) into `outDir`. */
export async function buildRenderer(outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: join(ROOT, 'src/renderer'),
    base: './',
    logLevel: 'warn',
    plugins: [vue()],
    build: { outDir, emptyOutDir: true, reportCompressedSize: false, rollupOptions: { input: join(ROOT, 'src/renderer/index.html') } }
  })
}

export interface Served {
  url: string
  process: ChildProcess
  stop(): Promise<void>
}

/** Starts the serve fixture and resolves with the URL it prints (token included); `env` adds to its environment (e.g. SLURM_CONF). */
export async function startServe(rendererDir: string, workDir: string, env: Record<string, string> = {}): Promise<Served> {
  await mkdir(workDir, { recursive: true })
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/serve-fixture.ts', rendererDir, workDir], {
    cwd: ROOT,
    env: { ...process.env, WORKBENCH_BACKEND: 'wasm', WORKBENCH_DATA_DIR: join(workDir, 'data', 'datasets'), ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((done, fail) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out)
      if (match) done(match[1] as string)
    })
    child.once('exit', (code) => fail(new Error(`serve fixture exited (code ${code}) before printing a URL:\n${out}`)))
  })
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
  }
}

/** Debian's Chromium, headless, with a fresh profile in `profileDir`. */
export function launchChromium(profileDir: string, viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}

/** A served workbench in its own temp folder, and a Chromium page on it. */
export interface E2eSession {
  work: string
  served: Served
  browser: BrowserContext
  page: Page
  /** The API client the test sets up with, when openWorkbench was given an event list (see there). */
  api?: WorkbenchClient
  /** Closes the API client and the browser, stops serve mode and removes the folder. */
  stop(): Promise<void>
}

/**
 * Builds the renderer, starts serve mode and opens a page, all under a fresh temp folder named with
 * `prefix`; the page's uncaught errors and console errors go into `problems`, which tests assert empty.
 * `env` adds to the serve process's environment. Given `events`, it also connects an API client
 * (`api`) whose every event is appended there (for eventWaiter).
 */
export async function openWorkbench(prefix: string, problems: string[], env: Record<string, string> = {}, events?: WorkbenchEvent[]): Promise<E2eSession> {
  const work = await mkdtemp(join(tmpdir(), prefix))
  await mkdir(ARTIFACTS, { recursive: true })
  await buildRenderer(join(work, 'renderer'))
  const served = await startServe(join(work, 'renderer'), join(work, 'server'), env)
  const browser = await launchChromium(join(work, 'profile'))
  const page = await browser.newPage()
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  const api = events ? connectApi(served) : undefined
  api?.onAny((e) => events?.push(e))
  return {
    work,
    served,
    browser,
    page,
    ...(api ? { api } : {}),
    async stop() {
      api?.close()
      await browser.close()
      await served.stop()
      await rm(work, { recursive: true, force: true })
    }
  }
}

/** The renderer's own RPC client over the served WebSocket, for setting up through the API. */
export function connectApi(served: Served): WorkbenchClient {
  // Node 20 has no global WebSocket; the renderer's own transport runs on `ws` here.
  ;(globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket
  return createWorkbenchClient(detectTransport({ location: new URL(served.url) } as unknown as Window))
}

/** Reads until `ok` holds, every `pollMs`, or throws after `timeoutMs` naming `what` and the last value read. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string, pollMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: T = await read()
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`)
    await new Promise((r) => setTimeout(r, pollMs))
    last = await read()
  }
  return last
}

/** A wait for the first of `events` (a list the test's API client appends to) that matches, or a throw after `timeoutMs` naming `what`. */
export function eventWaiter<E>(events: readonly E[]): (match: (e: E) => boolean, timeoutMs: number, what: string) => Promise<E> {
  return async (match, timeoutMs, what) => {
    const end = Date.now() + timeoutMs
    for (;;) {
      const found = events.find(match)
      if (found) return found
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
