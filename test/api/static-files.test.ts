import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contentTypeFor, RENDERER_CSP, resolveStaticPath } from '../../src/engine/api/static-files'

describe('static files of the renderer', () => {
  const root = resolve('/srv/renderer')

  it('maps / to index.html and keeps paths inside the root', () => {
    expect(resolveStaticPath(root, '/')).toBe(join(root, 'index.html'))
    expect(resolveStaticPath(root, '/assets/index-abc.js')).toBe(join(root, 'assets', 'index-abc.js'))
  })

  it.each(['/../secret', '/assets/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2fetc', '/%E0%A4%A', '/a%00b'])('never leaves the root for %s', (path) => {
    const file = resolveStaticPath(root, path)
    if (file !== undefined) expect(file.startsWith(root)).toBe(true)
    else expect(file).toBeUndefined()
  })

  it('names content types and keeps the CSP strict', () => {
    expect(contentTypeFor('a.js')).toMatch(/javascript/)
    expect(contentTypeFor('a.HTML')).toMatch(/text\/html/)
    expect(contentTypeFor('a.exe')).toBe('application/octet-stream')
    expect(RENDERER_CSP).toContain("script-src 'self'")
    expect(RENDERER_CSP).not.toMatch(/script-src[^;]*unsafe/)
    expect(RENDERER_CSP).toContain("object-src 'none'")
    expect(RENDERER_CSP).toContain("connect-src 'self'")
  })
})
