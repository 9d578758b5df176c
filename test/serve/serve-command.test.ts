import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/args'
import { DEFAULT_SERVE_PORT, exposureWarning, parseServeArgs } from '../../src/cli/commands/serve'

describe('cli serve arguments', () => {
  it('binds to 127.0.0.1 by default', () => {
    const args = parseServeArgs([])
    expect(args).toMatchObject({ host: '127.0.0.1', port: DEFAULT_SERVE_PORT, runsDir: resolve('workbench-runs'), rebuild: false })
  })

  it('takes --port, --host, --runs and several --data', () => {
    const args = parseServeArgs(['--port', '0', '--host', '0.0.0.0', '--runs', 'r', '--data', 'a', '--data', 'b'])
    expect(args).toMatchObject({ port: 0, host: '0.0.0.0', runsDir: resolve('r'), datasetDirs: [resolve('a'), resolve('b')] })
  })

  it('rejects a bad port or an unknown flag', () => {
    expect(() => parseServeArgs(['--port', 'http'])).toThrow(UsageError)
    expect(() => parseServeArgs(['--port', '70000'])).toThrow(/not a port/)
    expect(() => parseServeArgs(['--bind', 'x'])).toThrow()
  })

  it('warns only when the host is reachable from other machines', () => {
    expect(exposureWarning('127.0.0.1', 8765)).toBeUndefined()
    expect(exposureWarning('localhost', 8765)).toBeUndefined()
    expect(exposureWarning('0.0.0.0', 8765)).toMatch(/^warning: serving on 0\.0\.0\.0.*ssh -L 8765:127\.0\.0\.1:8765/s)
    expect(exposureWarning('192.168.1.20', 9000)).toMatch(/warning/)
  })
})
