/**
 * `cli dataset …` as a user runs it: a real child process, a real HTTP server on 127.0.0.1, real
 * archives; checks exit codes, the --json shapes on stdout, and progress and errors on stderr.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LibraryDataset, LibraryListing } from '../../src/shared/library'
import { buildArchive, closedPortUrl, makeTempDir, md5, officialMembers, removeDir, startArchiveServer, type TestServer } from '../engine/datasets-library/library-fixtures'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/index.ts')]

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI; `onStderr` sees stderr as it comes and may signal the child. */
function cli(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, WORKBENCH_DATA_DIR: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      onStderr?.(stderr, child)
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

let work: string
let archive: Buffer
let server: TestServer

beforeAll(async () => {
  work = await makeTempDir('cli')
  archive = await buildArchive(officialMembers('cifar10', 3))
  server = await startArchiveServer(archive)
})
afterAll(async () => {
  await server?.close()
  await removeDir(work)
})

describe('cli dataset download', () => {
  it('downloads into --data-dir, prints the dataset as JSON and a progress bar on stderr; list shows it', async () => {
    const dataDir = join(work, 'ok')
    const result = await cli(['dataset', 'download', 'cifar10', '--url', server.url, '--md5', md5(archive), '--data-dir', dataDir, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout) as { dataset: LibraryDataset; alreadyPresent: boolean; download: { url: string; bytes: number; md5: string; resumedFromBytes: number } }
    expect(Object.keys(out).sort()).toEqual(['alreadyPresent', 'dataset', 'download'])
    expect(out.alreadyPresent).toBe(false)
    expect(out.download).toMatchObject({ url: server.url, bytes: archive.length, md5: md5(archive), resumedFromBytes: 0 })
    expect(out.dataset).toMatchObject({ name: 'cifar10', kind: 'cifar10', location: join(dataDir, 'cifar10'), counts: { train: 15, test: 3 }, available: true })
    // Not a terminal: one line per step, with amounts.
    expect(result.stderr).toContain('downloading cifar-10-binary.tar.gz')
    expect(result.stderr).toMatch(new RegExp(`downloading .*${(archive.length / 1024).toFixed(1)} KiB / ${(archive.length / 1024).toFixed(1)} KiB`))
    expect(result.stderr).toContain('extracting')

    const list = await cli(['dataset', 'list', '--data-dir', dataDir, '--json'])
    expect(list.code).toBe(0)
    const listing = JSON.parse(list.stdout) as LibraryListing
    expect(listing.dataDir).toBe(dataDir)
    expect(listing.datasets).toEqual([out.dataset])

    const text = await cli(['dataset', 'list', '--data-dir', dataDir])
    expect(text.stdout).toContain('cifar10: CIFAR-10, 10 classes, 15 train + 3 test images, 32×32')
    expect(text.stdout).toContain(`dataset id: cifar10:${join(dataDir, 'cifar10')}`)
  })

  it('a checksum mismatch exits non-zero, deletes the temp file and registers nothing', async () => {
    const dataDir = join(work, 'bad-md5')
    const wrong = 'ffffffffffffffffffffffffffffffff'
    const result = await cli(['dataset', 'download', 'cifar10', '--url', server.url, '--md5', wrong, '--data-dir', dataDir, '--json'])
    expect(result.code).toBe(1)
    const { error } = JSON.parse(result.stdout) as { error: { reason: string; subject: string; message: string } }
    expect(error).toMatchObject({ reason: 'checksum', subject: server.url })
    expect(error.message).toContain(`MD5 is ${md5(archive)}, expected ${wrong}`)
    expect(result.stderr).toContain(`error: ${server.url}: MD5 is`)
    expect(await readdir(join(dataDir, 'downloads'))).toEqual([])
    expect(existsSync(join(dataDir, 'library.json'))).toBe(false)
    expect(existsSync(join(dataDir, 'cifar10'))).toBe(false)
  })

  it('offline: exits 1 with the message and the manual alternative', async () => {
    const url = await closedPortUrl()
    const result = await cli(['dataset', 'download', 'cifar10', '--url', url, '--data-dir', join(work, 'offline')])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`error: ${url}: cannot reach the server`)
    expect(result.stderr).toMatch(/instead: download .* then import the file: `npm run cli -- dataset import cifar-10-binary.tar.gz`/)
  })

  it('Ctrl-C cancels with exit 130 and keeps the partial file; the next run resumes it', async () => {
    const slow = await startArchiveServer(archive, 'cifar-10-binary.tar.gz', { trickle: { bytes: 1024, everyMs: 50 } })
    try {
      const dataDir = join(work, 'cancel')
      const args = ['dataset', 'download', 'cifar10', '--url', slow.url, '--md5', md5(archive), '--data-dir', dataDir, '--json']
      let sent = false
      const first = await cli(args, (text, child) => {
        // Non-TTY progress prints a line per step, then every few seconds: wait for the step, then some bytes.
        if (!sent && text.includes('downloading cifar-10-binary.tar.gz')) {
          sent = true
          setTimeout(() => child.kill('SIGINT'), 300)
        }
      })
      expect(first.code, first.stderr).toBe(130)
      expect(first.stderr).toContain('cancelling')
      expect(JSON.parse(first.stdout)).toMatchObject({ error: { reason: 'cancelled' } })
      expect(existsSync(join(dataDir, 'downloads', 'cifar-10-binary.tar.gz.part'))).toBe(true)

      slow.behaviour.trickle = undefined
      const second = await cli(args)
      expect(second.code, second.stderr).toBe(0)
      const out = JSON.parse(second.stdout) as { download: { resumedFromBytes: number } }
      expect(out.download.resumedFromBytes).toBeGreaterThan(0)
      expect(slow.requests.at(-1)?.range).toBe(`bytes=${out.download.resumedFromBytes}-`)
    } finally {
      await slow.close()
    }
  })

  it('usage errors exit 2 with the usage', async () => {
    const result = await cli(['dataset', 'download', 'imagenet'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("'imagenet' is not downloadable")
    expect(result.stderr).toContain('usage: cli dataset download cifar10|cifar100')
  })
})

describe('cli dataset import and remove', () => {
  it('imports an image folder under a name, refuses to delete its files, removes it from the library', async () => {
    const dataDir = join(work, 'imports')
    const root = join(work, 'photos')
    for (const c of ['cat', 'dog']) {
      await mkdir(join(root, c), { recursive: true })
      await writeFile(join(root, c, 'a.png'), await sharp({ create: { width: 12, height: 10, channels: 3, background: '#224466' } }).png().toBuffer())
    }
    await writeFile(join(root, 'dog', 'broken.jpg'), 'not a jpeg')

    const imported = await cli(['dataset', 'import', root, '--name', 'pets', '--data-dir', dataDir, '--json'])
    expect(imported.code, imported.stderr).toBe(0)
    const { dataset } = JSON.parse(imported.stdout) as { dataset: LibraryDataset }
    expect(dataset).toMatchObject({ name: 'pets', kind: 'folder', location: root, unreadableCount: 1, counts: { train: 2, test: 0 }, imageSize: { width: 12, height: 10 } })
    expect(dataset.unreadable[0].file).toBe(join(root, 'dog', 'broken.jpg'))

    const refused = await cli(['dataset', 'remove', 'pets', '--delete-files', '--data-dir', dataDir])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('not made by the library')
    expect(existsSync(join(root, 'cat', 'a.png'))).toBe(true)

    const removed = await cli(['dataset', 'remove', 'pets', '--data-dir', dataDir, '--json'])
    expect(removed.code).toBe(0)
    expect(JSON.parse(removed.stdout)).toMatchObject({ removed: { name: 'pets', location: root }, deletedFiles: false })
    expect(JSON.parse((await cli(['dataset', 'list', '--data-dir', dataDir, '--json'])).stdout)).toEqual({ dataDir, datasets: [] })
  })
})
