import { extname, join, normalize, resolve, sep } from 'node:path'

/**
 * The renderer's content security policy, sent with the page by `serve` and by Electron's app
 * protocol: scripts and styles only from the app itself (Vue's scoped styles arrive as style tags,
 * hence 'unsafe-inline' for styles only), images also as data URLs (dataset thumbnails), network
 * only back to the app's own origin (serve mode's WebSocket), no plugins, no <base>, no forms, no
 * framing by other pages.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2'
}

/** The Content-Type of a static file, by extension. */
export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * Maps a URL path to a file inside `root` (`/` is `index.html`); undefined for anything that would
 * leave `root` (`..`, encoded or not) or that is not a valid URL path.
 */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  if (decoded.includes('\0')) return undefined
  const base = resolve(root)
  const file = join(base, normalize(decoded === '/' || decoded === '' ? '/index.html' : decoded))
  return file.startsWith(base + sep) ? file : undefined
}
