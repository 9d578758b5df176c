/**
 * `npm start` / `npm run dev` on a fresh clone: scripts/ensure-electron-binary.mjs runs Electron's own
 * installer when the binary is missing. Each case runs the script under plain Node in a temp project
 * whose node_modules links to the real packages, with a copy of the real electron package (so nothing is
 * written into node_modules/electron): where the download fails it must end in a short message, and
 * where the binary is there it must finish without trying to download.
 */
import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const SCRIPT = join(ROOT, 'scripts', 'ensure-electron-binary.mjs')
const temps: string[] = []

afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A project folder like a fresh clone after `npm install`: the script, and electron without its binary. */
async function freshProject(): Promise<{ dir: string; electron: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'wb-start-'))
  temps.push(dir)
  await mkdir(join(dir, 'node_modules'))
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (name !== 'electron') await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name))
  }
  const electron = join(dir, 'node_modules', 'electron')
  await cp(join(ROOT, 'node_modules', 'electron'), electron, { recursive: true, filter: (src) => !/[/\\](dist|path\.txt)$/.test(src) })
  await mkdir(join(dir, 'scripts'))
  await cp(SCRIPT, join(dir, 'scripts', 'ensure-electron-binary.mjs'))
  return { dir, electron }
}

/** A localhost port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Runs the script as `npm start` would, with Electron's download pointed at `mirror` and an empty cache. */
function runScript(dir: string, mirror: string): Promise<{ code: number | null; output: string }> {
  // Only this test's Electron and proxy settings: none inherited from the machine or from npm's config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/electron|proxy/i.test(key)))
  Object.assign(env, { ELECTRON_MIRROR: mirror, electron_config_cache: join(dir, 'electron-cache'), ELECTRON_GET_NO_PROGRESS: '1' })
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dir, 'scripts', 'ensure-electron-binary.mjs')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

describe('ensure-electron-binary (the pre-start step)', () => {
  it('where the download fails, exits non-zero with two lines saying what failed and what to do, no stack trace', async () => {
    const { dir, electron } = await freshProject()
    const { version } = JSON.parse(await readFile(join(electron, 'package.json'), 'utf8')) as { version: string }
    const mirror = `http://127.0.0.1:${await closedPort()}/`
    const { code, output } = await runScript(dir, mirror)
    expect(code).not.toBe(0)
    const lines = output.trim().split('\n')
    expect(lines, output).toHaveLength(2)
    expect(lines[0]).toContain(`Could not download Electron ${version}'s binary from ${mirror}`)
    expect(lines[1]).toMatch(/network/)
    expect(lines[1]).toContain('ELECTRON_MIRROR')
    expect(lines[1]).toContain('npx install-electron')
    expect(output).not.toMatch(/^\s+at /m)
    expect(output).not.toContain('Electron uninstall')
    // Nothing half-installed is left behind for electron-vite to trip over.
    await expect(readFile(join(electron, 'path.txt'), 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('where the binary is installed, exits 0 at once without downloading', async () => {
    const { dir, electron } = await freshProject()
    const { version } = JSON.parse(await readFile(join(electron, 'package.json'), 'utf8')) as { version: string }
    const executable = process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : process.platform === 'win32' ? 'electron.exe' : 'electron'
    await mkdir(join(electron, 'dist', executable, '..'), { recursive: true })
    await writeFile(join(electron, 'dist', executable), '')
    await writeFile(join(electron, 'dist', 'version'), `v${version}`)
    await writeFile(join(electron, 'path.txt'), executable)
    // A download would fail against this mirror, so exit 0 means none was tried.
    const { code, output } = await runScript(dir, `http://127.0.0.1:${await closedPort()}/`)
    expect(output).toBe('')
    expect(code).toBe(0)
  })

  it('downloads again when the binary on disk is another Electron version', async () => {
    const { dir, electron } = await freshProject()
    await mkdir(join(electron, 'dist'), { recursive: true })
    await writeFile(join(electron, 'dist', 'electron'), '')
    await writeFile(join(electron, 'dist', 'version'), 'v1.0.0')
    await writeFile(join(electron, 'path.txt'), 'electron')
    const { code, output } = await runScript(dir, `http://127.0.0.1:${await closedPort()}/`)
    expect(code).not.toBe(0)
    expect(output).toContain('Could not download')
  })
})
