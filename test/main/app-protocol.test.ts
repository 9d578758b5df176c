import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { APP_ORIGIN, createAppProtocolHandler } from '../../src/main/app-protocol'

let handler: (request: Request) => Promise<Response>
let root: string

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'wb-protocol-'))
  root = join(base, 'renderer')
  await mkdir(join(root, 'assets'), { recursive: true })
  await writeFile(join(root, 'index.html'), '<!doctype html><title>app</title>')
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)')
  await writeFile(join(base, 'secret.txt'), 'secret')
  handler = createAppProtocolHandler(root)
})

describe('the app protocol (workbench://app)', () => {
  it('serves the renderer with the CSP on every response', async () => {
    const page = await handler(new Request(`${APP_ORIGIN}/index.html`))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(await page.text()).toContain('<title>app</title>')
    const script = await handler(new Request(`${APP_ORIGIN}/assets/app.js`))
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    expect(script.headers.get('content-security-policy')).toContain("default-src 'self'")
  })

  it('never serves a file outside the renderer folder, nor another host', async () => {
    for (const url of [`${APP_ORIGIN}/../secret.txt`, `${APP_ORIGIN}/%2e%2e/secret.txt`, `${APP_ORIGIN}/assets/..%2f..%2fsecret.txt`, 'workbench://other/index.html', `${APP_ORIGIN}/missing.js`]) {
      const response = await handler(new Request(url))
      expect(response.status, url).toBe(404)
      expect(await response.text()).not.toContain('secret')
    }
  })
})
