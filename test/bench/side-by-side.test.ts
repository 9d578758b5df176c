import { describe, expect, it } from 'vitest'
import { ALL_BACKENDS, benchFromChild, formatSideBySide, parseBackendChoice, SOFTWARE_NOTE, type BackendBench, type SideBySideReport } from '../../bench/side-by-side'

describe('bench --backend parsing', () => {
  it('keeps the default (in-process, engine-chosen) when the flag is absent', () => {
    expect(parseBackendChoice(undefined)).toEqual({ mode: 'default' })
  })

  it('runs one named backend in the process and several (or all) in children', () => {
    expect(parseBackendChoice('wasm')).toEqual({ mode: 'single', backend: 'wasm' })
    expect(parseBackendChoice('webgpu')).toEqual({ mode: 'single', backend: 'webgpu' })
    expect(parseBackendChoice('all')).toEqual({ mode: 'many', backends: ['tensorflow', 'webgpu', 'wasm'] })
    expect(ALL_BACKENDS).not.toContain('cpu')
    expect(parseBackendChoice('wasm, webgpu')).toEqual({ mode: 'many', backends: ['wasm', 'webgpu'] })
    // A repeated name is one backend.
    expect(parseBackendChoice('wasm,wasm')).toEqual({ mode: 'single', backend: 'wasm' })
  })

  it('rejects what is not a backend, naming it', () => {
    expect(() => parseBackendChoice('cuda')).toThrow(/'cuda' is not a backend/)
    expect(() => parseBackendChoice('wasm,gpu')).toThrow(/'gpu' is not a backend/)
    expect(() => parseBackendChoice(',')).toThrow(/names no backend/)
  })
})

const lavapipe = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', software: true }

function report(backends: BackendBench[], pytorch: SideBySideReport['pytorch'] = null): SideBySideReport {
  return { arch: 'vgg11_bn', batchSize: 64, widths: [1, 0.25], minSeconds: 8, warmupSeconds: 8, backends, pytorch }
}

const wasm: BackendBench = {
  backend: 'wasm',
  status: 'ok',
  label: 'CPU · wasm, 2 training threads',
  device: 'cpu',
  threads: 2,
  batchSize: 64,
  results: [
    { arch: 'vgg11_bn', width: 1, trainImagesPerSecond: 31.5, inferImagesPerSecond: 102.4, trainSteps: 5, inferSteps: 14 },
    { arch: 'vgg11_bn', width: 0.25, trainImagesPerSecond: 402, inferImagesPerSecond: 1200.7, trainSteps: 52, inferSteps: 151 }
  ],
  notes: [],
  seconds: 61
}

const webgpu: BackendBench = {
  backend: 'webgpu',
  status: 'ok',
  label: `CPU · webgpu on a software adapter (${lavapipe.description})`,
  device: 'cpu',
  adapter: lavapipe,
  software: true,
  threads: 1,
  batchSize: 64,
  results: [
    { arch: 'vgg11_bn', width: 1, trainImagesPerSecond: 1.2, inferImagesPerSecond: 4.1, trainSteps: 1, inferSteps: 1 },
    { arch: 'vgg11_bn', width: 0.25, trainImagesPerSecond: null, inferImagesPerSecond: null, trainSteps: 0, inferSteps: 0, error: 'out of memory' }
  ],
  notes: [],
  seconds: 190
}

const tensorflow: BackendBench = { backend: 'tensorflow', status: 'unavailable', reason: '@tensorflow/tfjs-node-gpu is not installed', results: [], notes: [] }

describe('bench side-by-side table', () => {
  const lines = formatSideBySide(report([tensorflow, webgpu, wasm], { available: true, python: 'python3', runs: [{ threads: 1, results: [{ width: 1, trainImagesPerSecond: 20, inferImagesPerSecond: 60 }] }] }))
  const text = lines.join('\n')

  it('puts each backend that ran in a column, a row per width, with the steps each figure is from', () => {
    const training = lines.slice(lines.indexOf('training:') + 1, lines.indexOf('training:') + 5)
    expect(training[0]).toMatch(/^width\s+webgpu \(software\)\*\s+wasm\s+PyTorch CPU 1t$/)
    expect(training[2]).toMatch(/^1\s+1\.2 \(1\)\s+31\.5 \(5\)\s+20$/)
    expect(training[3]).toMatch(/^0\.25\s+failed\s+402 \(52\)\s+–$/)
    const inference = lines.slice(lines.indexOf('inference:') + 1, lines.indexOf('inference:') + 5)
    expect(inference[2]).toMatch(/^1\s+4\.1 \(1\)\s+102\.4 \(14\)\s+60$/)
    // The unavailable backend has no column.
    expect(training[0]).not.toContain('tensorflow')
  })

  it('names every backend with its label and adapter, flags a software adapter, and says why one did not run', () => {
    expect(text).toContain(`* ${SOFTWARE_NOTE}.`)
    expect(text).toContain(`✗ tensorflow not available: @tensorflow/tfjs-node-gpu is not installed`)
    expect(text).toContain(`✓ webgpu     ${webgpu.label}`)
    expect(text).toContain(`adapter: ${lavapipe.description} (vendor mesa) · ${SOFTWARE_NOTE}`)
    expect(text).toContain('width 0.25 failed: out of memory')
    expect(text).toContain(`✓ wasm       ${wasm.label}`)
  })

  it('has no software note when no figure comes from a software adapter, and says when PyTorch is missing', () => {
    const plain = formatSideBySide(report([wasm], { available: false, reason: 'PyTorch not importable' })).join('\n')
    expect(plain).not.toContain(SOFTWARE_NOTE)
    expect(plain).toContain('PyTorch: PyTorch not importable')
  })
})

describe('a child bench becomes a BackendBench', () => {
  it('takes the JSON the child printed, after any chatter', () => {
    const stdout = `some warning\n${JSON.stringify(wasm, null, 2)}\n`
    expect(benchFromChild('wasm', { stdout, stderr: '', code: 0, signal: null })).toEqual(wasm)
    expect(benchFromChild('tensorflow', { stdout: JSON.stringify(tensorflow), stderr: '', code: 3, signal: null })).toEqual(tensorflow)
  })

  it('records a crash or a hang as failed, with the last words of its stderr', () => {
    const crashed = benchFromChild('webgpu', { stdout: '', stderr: 'starting\nWarning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16\nterminate called: std::system_error\n', code: null, signal: 'SIGABRT' })
    expect(crashed).toMatchObject({ backend: 'webgpu', status: 'failed', results: [] })
    expect(crashed.reason).toBe('its bench process was killed by SIGABRT before reporting: starting | terminate called: std::system_error')
    const hung = benchFromChild('webgpu', { stdout: '', stderr: '', code: null, signal: 'SIGKILL', timedOut: 3600 })
    expect(hung.reason).toBe('its bench process timed out after 3600 s and was killed before reporting')
    // JSON for another backend is not this backend's report.
    expect(benchFromChild('webgpu', { stdout: JSON.stringify(wasm), stderr: '', code: 0, signal: null }).status).toBe('failed')
  })
})
