#!/usr/bin/env node
/**
 * Makes sure Electron's binary is installed before electron-vite looks for it (`npm start`, `npm run dev`).
 *
 * Since Electron 42 the `electron` package no longer downloads its binary when npm installs it; it does so
 * on first use or through its own `install-electron` bin. electron-vite 6 reads `electron/path.txt` itself
 * and stops with "Electron uninstall" when it is missing (electron-vite issue #904). This script runs
 * Electron's own installer (which honours ELECTRON_MIRROR, electron_config_cache, proxies and Electron's
 * checksums) when the binary is missing, and turns a failed download into two lines saying what to do.
 * Plain Node, no build: it runs before anything is compiled.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const DEFAULT_MIRROR = 'https://github.com/electron/electron/releases/download/'

/** The executable's path inside `dist/`, as Electron's installer writes it into path.txt. */
function platformPath(platform) {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron'
  if (platform === 'win32') return 'electron.exe'
  return 'electron'
}

/**
 * Whether the electron package at `dir` has its binary, by the same test Electron's installer makes
 * (dist/version, path.txt, the executable) — so a binary left from another Electron version counts as missing.
 */
function isElectronInstalled(dir, env = process.env) {
  try {
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    const platform = env['ELECTRON_INSTALL_PLATFORM'] || env['npm_config_platform'] || process.platform
    if (readFileSync(join(dir, 'dist', 'version'), 'utf8').trim().replace(/^v/, '') !== version) return false
    const executable = readFileSync(join(dir, 'path.txt'), 'utf8')
    if (executable !== platformPath(platform)) return false
    return existsSync(join(dir, 'dist', executable))
  } catch {
    return false
  }
}

/** The first line of an installer's stderr that says what went wrong (its error line, not its stack). */
function summarizeInstallerError(stderr) {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
  const line = lines.find((l) => !/^at\s/.test(l)) ?? 'the installer failed'
  return line.replace(/^\w*Error:\s*/, '')
}

/** Runs Electron's installer with the current Node; resolves with its exit code and what it printed on stderr. */
function runInstaller(installer, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [installer], { env, stdio: ['ignore', 'inherit', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', (error) => resolve({ code: 1, stderr: error.message }))
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stderr }))
  })
}

async function main() {
  const env = { ...process.env }
  // electron-vite runs whatever this names and never reads path.txt.
  if (env['ELECTRON_EXEC_PATH'] && existsSync(env['ELECTRON_EXEC_PATH'])) return 0

  const require = createRequire(import.meta.url)
  let dir
  try {
    dir = dirname(require.resolve('electron/package.json'))
  } catch {
    console.error('Electron is not installed (no node_modules/electron): run `npm install` first.')
    return 1
  }
  if (isElectronInstalled(dir, env)) return 0

  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const what = `Electron ${pkg.version}'s binary`
  const installer = join(dir, pkg.bin?.['install-electron'] ?? 'install.js')
  // @electron/get uses HTTP(S)_PROXY only when asked to.
  if (!env['ELECTRON_GET_USE_PROXY'] && (env['HTTPS_PROXY'] || env['https_proxy'] || env['HTTP_PROXY'] || env['http_proxy'])) {
    env['ELECTRON_GET_USE_PROXY'] = '1'
  }
  // Said only if it takes a while, so that a quick failure (offline) stays at two lines.
  const notice = setTimeout(() => console.error(`Downloading ${what} with Electron's installer (once; about 100 MB)…`), 2000)
  const { code, stderr } = await runInstaller(installer, env)
  clearTimeout(notice)
  if (code === 0 && isElectronInstalled(dir, env)) return 0

  const mirror = env['ELECTRON_MIRROR'] || env['npm_config_electron_mirror'] || DEFAULT_MIRROR
  console.error(`Could not download ${what} from ${mirror} (${summarizeInstallerError(stderr)}).`)
  console.error('Check the network (or set HTTPS_PROXY, or ELECTRON_MIRROR to a reachable mirror), then run `npx install-electron` or this command again.')
  return 1
}

process.exitCode = await main()
