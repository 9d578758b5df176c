import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import { isLoopbackHost, SOCKET_PATH, startServeServer, type RunningServe } from '../../src/engine/api/serve-server'
import { createWorkbenchClient, type Transport } from '../../src/shared/rpc-client'
import { createTestServer, recordEvents, runEnded, tinyRun } from '../api/workbench-harness'

// serve mode over a real socket on 127.0.0.1: HTTP for the page, a WebSocket for the contract, the
// real engine behind it.
let server: WorkbenchServer
let serve: RunningServe
let base: string

beforeAll(async () => {
  ;({ server } = await createTestServer())
  const rendererDir = join(await mkdtemp(join(tmpdir(), 'wb-serve-')), 'renderer')
  await mkdir(join(rendererDir, 'assets'), { recursive: true })
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>workbench page</title>')
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'export const page = 1')
  await writeFile(join(rendererDir, '..', 'secret.txt'), 'secret')
  serve = await startServeServer({ server, rendererDir, host: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${serve.port}`
})

afterAll(async () => {
  await serve.close()
  await server.shutdown()
})

/** A plain HTTP GET: status, headers, body. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Opens a WebSocket; resolves with it once open, or with the HTTP status it was refused with. */
function openSocket(query: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}${SOCKET_PATH}${query}`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', reject)
  })
}

/** The renderer's RPC client over a `ws` socket (what transport.ts does with the browser's WebSocket). */
function socketClient(ws: WebSocket) {
  const transport: Transport = {
    kind: 'websocket',
    send: (m) => ws.send(JSON.stringify(m)),
    onMessage: (listener) => {
      const handle = (data: Buffer): void => listener(JSON.parse(data.toString()))
      ws.on('message', handle)
      return () => ws.off('message', handle)
    },
    close: () => ws.close()
  }
  return createWorkbenchClient(transport)
}

/** Sends a raw frame and waits for the next message (or the close code). */
function exchange(ws: WebSocket, frame: string): Promise<{ message?: Record<string, unknown>; closeCode?: number }> {
  return new Promise((resolve) => {
    ws.once('message', (data: Buffer) => resolve({ message: JSON.parse(data.toString()) }))
    ws.once('close', (code) => resolve({ closeCode: code }))
    ws.send(frame)
  })
}

describe('serve mode: the token', () => {
  it('answers 401 and no data without the right token', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', '/?token=wrong', `/?token=${serve.token}x`]) {
      const res = await get(path)
      expect(res.status, path).toBe(401)
      expect(res.body).not.toContain('workbench page')
      expect(res.body).not.toContain('export const')
    }
    expect(await openSocket('')).toBe(401)
    expect(await openSocket('?token=wrong')).toBe(401)
    expect(await get('/', { Cookie: 'workbench_token=wrong' })).toMatchObject({ status: 401 })
  })

  it('serves the page with the token, then its assets by the cookie it set; never files outside', async () => {
    const page = await get(`/?token=${serve.token}`)
    expect(page.status).toBe(200)
    expect(page.body).toContain('workbench page')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    const cookie = String(page.headers['set-cookie']).split(';')[0] as string
    expect(page.headers['set-cookie']?.toString()).toMatch(/HttpOnly; SameSite=Strict/)
    const asset = await get('/assets/app.js', { Cookie: cookie })
    expect(asset).toMatchObject({ status: 200 })
    expect(asset.headers['content-type']).toMatch(/javascript/)
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const res = await get(path, { Cookie: cookie })
      expect(res.status, path).toBe(404)
      expect(res.body).not.toContain('secret')
    }
  })

  it('refuses a socket opened from another site, even with the token', async () => {
    expect(await openSocket(`?token=${serve.token}`, { Origin: 'https://evil.example' })).toBe(401)
  })

  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', 'localhost', '::1', '127.0.0.2'].every(isLoopbackHost)).toBe(true)
    expect(['0.0.0.0', '192.168.1.5', 'example.org', '::'].some(isLoopbackHost)).toBe(false)
  })
})

describe('serve mode: the contract over the socket', () => {
  it('rejects bad payloads with typed errors and closes on non-JSON', async () => {
    const ws = (await openSocket(`?token=${serve.token}`, { Origin: base })) as WebSocket
    const bad = await exchange(ws, JSON.stringify({ t: 'q', m: 'startRun', a: [{ dataset: 5 }], i: 'r1' }))
    expect(bad.message).toMatchObject({ t: 's', i: 'r1', e: { name: 'ApiError', code: 'invalid-request' } })
    const shape = await exchange(ws, JSON.stringify({ t: 'q', m: 'startRun', a: 'oops', i: 'r2' }))
    expect(shape.message).toMatchObject({ i: 'r2', e: { code: 'invalid-request' } })
    const proto = await exchange(ws, JSON.stringify({ t: 'q', m: '__proto__', a: [], i: 'r3' }))
    expect(proto.message).toMatchObject({ i: 'r3', e: { code: 'unknown-request' } })
    expect(await exchange(ws, '{ not json')).toEqual({ closeCode: 1007 })
    // The server is still fine.
    expect((await get(`/?token=${serve.token}`)).status).toBe(200)
  })

  it('runs a small training run whose progress streams over the socket until it finishes', async () => {
    const ws = (await openSocket(`?token=${serve.token}`)) as WebSocket
    const client = socketClient(ws)
    const recorder = recordEvents(client)
    const { runId } = await client.api.startRun(tinyRun())
    const end = await recorder.waitFor(runEnded(runId))
    expect(end.type === 'run:status' && end.run.status).toBe('done')
    const progress = recorder.events.filter((e) => e.type === 'run:progress' && e.runId === runId)
    expect(progress.length).toBeGreaterThan(0)
    expect(recorder.events.filter((e) => e.type === 'run:epoch' && e.runId === runId)).toHaveLength(2)
    client.close()
  })
})
