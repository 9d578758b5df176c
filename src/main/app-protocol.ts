import { readFile } from 'node:fs/promises'
import { contentTypeFor, RENDERER_CSP, resolveStaticPath } from '../engine/api/static-files'

/** The app's own scheme: the page loads from `workbench://app/`, not from file:// (Electron's checklist). */
export const APP_SCHEME = 'workbench'
export const APP_HOST = 'app'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`

/** Privileges of the scheme: a standard, secure origin, so 'self' in the CSP means exactly the app. */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true }

/**
 * Serves the built renderer for the app scheme: files under `rendererDir` only (no `..` escapes, no
 * other host), with the renderer's CSP on every response. Plain fetch-API Request/Response, so it is
 * tested without Electron.
 */
export function createAppProtocolHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url)
    const file = url.host === APP_HOST ? resolveStaticPath(rendererDir, url.pathname) : undefined
    const headers = { 'Content-Security-Policy': RENDERER_CSP, 'X-Content-Type-Options': 'nosniff' }
    if (!file) return new Response('not found', { status: 404, headers })
    try {
      const body = await readFile(file)
      return new Response(body, { status: 200, headers: { ...headers, 'Content-Type': contentTypeFor(file) } })
    } catch {
      return new Response('not found', { status: 404, headers })
    }
  }
}
