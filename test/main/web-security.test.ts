import { EventEmitter } from 'node:events'
import { beforeEach, describe, expect, it, vi } from 'vitest'

const openExternal = vi.fn()
vi.mock('electron', () => ({ shell: { openExternal } }))

const { denyAllPermissions, hardenWebContents, isSafeExternalUrl, secureWebPreferences } = await import('../../src/main/web-security')

/** The slice of WebContents the hardening touches: events plus the window-open handler. */
class FakeContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | undefined
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.openHandler = handler
  }
}

const fakeEvent = () => ({ preventDefault: vi.fn() })

describe('window security (electron mocked)', () => {
  beforeEach(() => openExternal.mockReset())

  it('isolates, sandboxes and keeps Node out of the renderer', () => {
    const prefs = secureWebPreferences('/app/preload/index.cjs')
    expect(prefs).toMatchObject({
      preload: '/app/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false
    })
    expect(prefs).not.toHaveProperty('enableBlinkFeatures')
  })

  it('blocks navigation, redirects and <webview>', () => {
    const contents = new FakeContents()
    hardenWebContents(contents as never)
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = fakeEvent()
      contents.emit(name, event, 'https://evil.example/')
      expect(event.preventDefault, name).toHaveBeenCalled()
    }
  })

  it('denies every new window; only https links go to the user browser', () => {
    const contents = new FakeContents()
    hardenWebContents(contents as never)
    expect(contents.openHandler?.({ url: 'https://example.org/docs' })).toEqual({ action: 'deny' })
    expect(openExternal).toHaveBeenCalledWith('https://example.org/docs')
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'http://example.org', 'not a url']) {
      expect(contents.openHandler?.({ url })).toEqual({ action: 'deny' })
    }
    expect(openExternal).toHaveBeenCalledTimes(1)
    expect(isSafeExternalUrl('https://x.org')).toBe(true)
    expect(isSafeExternalUrl('file:///x')).toBe(false)
  })

  it('refuses every permission request and check', () => {
    let requestHandler: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined
    let checkHandler: (() => boolean) | undefined
    const session = {
      setPermissionRequestHandler: (h: typeof requestHandler) => (requestHandler = h),
      setPermissionCheckHandler: (h: typeof checkHandler) => (checkHandler = h)
    }
    denyAllPermissions(session as never)
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal']) {
      const callback = vi.fn()
      requestHandler?.({}, permission, callback)
      expect(callback).toHaveBeenCalledWith(false)
    }
    expect(checkHandler?.()).toBe(false)
  })
})
