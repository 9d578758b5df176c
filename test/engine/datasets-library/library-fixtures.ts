/**
 * Test material for the dataset library: CIFAR release archives in the official member layout built
 * here (a few records per file), and a real HTTP server on 127.0.0.1 that serves them with Range
 * support and can misbehave on purpose (drop the connection, stall, ignore ranges, fail).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'
import { CIFAR_RELEASES, type CifarRelease } from '../../../src/engine/datasets-library/cifar-releases'

export const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
export const CIFAR100_FINE = Array.from({ length: 100 }, (_, i) => `fine_${String(i).padStart(2, '0')}`)
export const CIFAR100_COARSE = Array.from({ length: 20 }, (_, i) => `coarse_${String(i).padStart(2, '0')}`)

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tw-lib-${prefix}-`))
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true })
}

export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex')
}

/** A member of a test archive. */
export interface TestMember {
  name: string
  data?: Uint8Array
  type?: 'file' | 'directory' | 'symlink'
  linkname?: string
}

/**
 * A data file's records. Labels cycle 0,1,2… (fine labels for CIFAR-100, coarse = fine % 20); pixels
 * are pseudo-random so the archive does not compress to nothing (transfers need some length).
 */
export function cifarRecords(release: CifarRelease, count: number, seed: number, labelFor: (i: number) => number = (i) => i % 10): Uint8Array {
  const out = new Uint8Array(count * release.recordBytes)
  let x = seed * 2654435761 + 1
  for (let r = 0; r < count; r++) {
    const at = r * release.recordBytes
    const label = labelFor(r)
    if (release.coarse) {
      out[at + release.coarse.labelOffset] = label % 20
      out[at + release.labelOffset] = label
    } else out[at] = label
    for (let i = at + release.recordBytes - 3072; i < at + release.recordBytes; i++) {
      x = (x * 1103515245 + 12345) >>> 0
      out[i] = x >>> 24
    }
  }
  return out
}

/** The official members of a release with `records` records per data file. */
export function officialMembers(name: 'cifar10' | 'cifar100', records = 3): TestMember[] {
  const release = CIFAR_RELEASES[name]
  const top = release.topFolder
  const members: TestMember[] = [{ name: `${top}/`, type: 'directory' }]
  release.dataFiles.forEach(({ file }, i) => members.push({ name: `${top}/${file}`, data: cifarRecords(release, records, i + 1) }))
  if (name === 'cifar10') {
    // The real batches.meta.txt ends with blank lines; readers must cope.
    members.push({ name: `${top}/batches.meta.txt`, data: Buffer.from(`${CIFAR10_NAMES.join('\n')}\n\n`) })
    members.push({ name: `${top}/readme.html`, data: Buffer.from('<html>test</html>') })
  } else {
    members.push({ name: `${top}/fine_label_names.txt`, data: Buffer.from(`${CIFAR100_FINE.join('\n')}\n`) })
    members.push({ name: `${top}/coarse_label_names.txt`, data: Buffer.from(`${CIFAR100_COARSE.join('\n')}\n`) })
  }
  return members
}

/** A tar (gzipped unless told otherwise) of the given members. */
export async function buildArchive(members: TestMember[], { gzip = true } = {}): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer)
  })()
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const header = { name: m.name, type: m.type ?? 'file', linkname: m.linkname, mode: m.type === 'directory' ? 0o755 : 0o644 }
      const done = (error?: Error | null): void => (error ? reject(error) : resolve())
      if (m.data) pack.entry({ ...header, size: m.data.length }, Buffer.from(m.data), done)
      else pack.entry(header, done)
    })
  }
  pack.finalize()
  await collected
  const tarBytes = Buffer.concat(chunks)
  return gzip ? gzipSync(tarBytes) : tarBytes
}

/** What the server saw of one request. */
export interface SeenRequest {
  url: string
  range: string | undefined
  ifRange: string | undefined
}

/** How the test server behaves. */
export interface ServerBehaviour {
  /** For the first `times` requests, send this many body bytes and then cut the connection. */
  dropAfter?: { bytes: number; times: number }
  /** Send this many body bytes, then send nothing more (until the client gives up). */
  stallAfter?: number
  /** Answer every request with this status (and no file). */
  status?: number
  /** Send the body in pieces of `bytes` every `everyMs` (a slow link, so rates and cancels can be seen). */
  trickle?: { bytes: number; everyMs: number }
  /** Ignore Range headers (answer 200 with the whole file). */
  ignoreRange?: boolean
  /** ETag to send ('"v1"' by default). */
  etag?: string
}

export interface TestServer {
  url: string
  requests: SeenRequest[]
  behaviour: ServerBehaviour
  close(): Promise<void>
}

/** Serves `body` at `/<fileName>` on 127.0.0.1 (a free port) with HTTP Range support. */
export async function startArchiveServer(body: Uint8Array, fileName = 'cifar-10-binary.tar.gz', behaviour: ServerBehaviour = {}): Promise<TestServer> {
  const requests: SeenRequest[] = []
  const state: TestServer = { url: '', requests, behaviour, close: async () => undefined }
  let drops = 0
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const b = state.behaviour
    requests.push({ url: req.url ?? '', range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined })
    if (req.url !== `/${fileName}`) {
      res.writeHead(404, 'Not Found').end('no such file')
      return
    }
    if (b.status) {
      res.writeHead(b.status).end('failing on purpose')
      return
    }
    const etag = b.etag ?? '"v1"'
    let start = 0
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    const ifRangeOk = req.headers['if-range'] === undefined || req.headers['if-range'] === etag
    if (match && !b.ignoreRange && ifRangeOk) {
      start = Number(match[1])
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end()
        return
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, etag, 'accept-ranges': 'bytes' })
    } else {
      res.writeHead(200, { 'content-length': body.length, etag, 'accept-ranges': 'bytes' })
    }
    const rest = body.subarray(start)
    if (b.dropAfter && drops < b.dropAfter.times) {
      drops++
      // Cut a moment after the bytes went out, as a real reset does mid-stream: cut at once, and the
      // client's HTTP stack may drop bytes it has received but not yet handed over.
      res.write(rest.subarray(0, b.dropAfter.bytes), () => setTimeout(() => res.socket?.destroy(), 150))
      return
    }
    if (b.stallAfter !== undefined) {
      res.write(rest.subarray(0, b.stallAfter))
      return // never ends; the client cancels or times out
    }
    if (b.trickle) {
      const { bytes, everyMs } = b.trickle
      let at = 0
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer)
        res.write(rest.subarray(at, at + bytes))
        at += bytes
        if (at >= rest.length) {
          clearInterval(timer)
          res.end()
        }
      }, everyMs)
      res.on('close', () => clearInterval(timer))
      return
    }
    res.end(rest)
  }
  const server: Server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  state.url = `http://127.0.0.1:${port}/${fileName}`
  state.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return state
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPortUrl(fileName = 'cifar-10-binary.tar.gz'): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/${fileName}`
}
