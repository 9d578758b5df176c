import { describe, expect, it } from 'vitest'
import { describeBackendChoice, type BackendInfo } from '../../../src/shared/backend'
import { describeAdapter, findWebGpuAdapter, noAdapterProblem } from '../../../src/engine/backend/webgpu'

// No Vulkan driver for this process (the loader reads this when Dawn creates its instance), and nothing
// forced, whatever the suite's environment says: the automatic choice must fall through to wasm.
process.env['VK_ICD_FILENAMES'] = '/nonexistent/no-such-icd.json'
delete process.env['WORKBENCH_BACKEND']

describe('WebGPU adapters described', () => {
  it('tells software adapters from hardware ones, by the fallback flag or the driver name', () => {
    // What Dawn reported here for SwiftShader and Mesa 25 lavapipe, and what an NVIDIA driver reports.
    const swiftshader = describeAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true })
    expect(swiftshader).toMatchObject({ software: true, description: 'SwiftShader driver 5.0.0' })
    expect(describeAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25.0.7' }).software).toBe(true)
    const nvidia = describeAdapter({ vendor: 'nvidia', architecture: 'ada-lovelace', device: '', description: 'NVIDIA GeForce RTX 4090' })
    expect(nvidia).toEqual({ vendor: 'nvidia', architecture: 'ada-lovelace', device: '', description: 'NVIDIA GeForce RTX 4090', software: false })
    expect(describeAdapter(undefined).description).toBe('unknown adapter')
  })

  it('names the platform API and what to install when there is no adapter', () => {
    expect(noAdapterProblem('linux').message).toMatch(/no Vulkan driver found/)
    expect(noAdapterProblem('linux').fix).toMatch(/vulkaninfo --summary/)
    expect(noAdapterProblem('darwin').message).toMatch(/no Metal driver/)
    expect(noAdapterProblem('win32').message).toMatch(/no D3D12 driver/)
  })
})

describe('backend choice without a Vulkan driver', () => {
  it('finds no adapter, in words, without throwing', async () => {
    const found = await findWebGpuAdapter({ allowSoftware: true })
    expect(found.ok).toBe(false)
    if (!found.ok) expect(['no-webgpu-adapter', 'webgpu-load-failed']).toContain(found.problem.code)
  })

  it('lists every backend tried, in order, and chooses wasm', async () => {
    const { selectBackend } = await import('../../../src/engine/backend/select-backend')
    const info = await selectBackend()
    expect(info.backend).toBe('wasm')
    expect(info.attempts.map((a) => [a.backend, a.chosen])).toEqual([
      ['tensorflow', false],
      ['webgpu', false],
      ['wasm', true],
      ['cpu', false]
    ])
    const webgpu = info.attempts.find((a) => a.backend === 'webgpu')
    expect(webgpu?.reason).toMatch(/no (Vulkan|Metal|D3D12) driver found|webgpu package/)
    expect(info.gpuProblem?.message).toMatch(/^WebGPU: .*tfjs-node-gpu: /)
    const text = describeBackendChoice(info).join('\n')
    expect(text).toMatch(/✗ webgpu {5}no Vulkan driver found/)
    expect(text).toMatch(/✓ wasm {7}chosen: /)
  })
})

describe('backend choice as text', () => {
  it('shows the chosen adapter and a rejected software one', () => {
    const adapter = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25.0.7', software: true }
    const info: BackendInfo = {
      backend: 'webgpu',
      device: 'cpu',
      label: 'CPU · webgpu on a software adapter (llvmpipe: Mesa 25.0.7)',
      threads: 1,
      adapter,
      attempts: [
        { backend: 'tensorflow', chosen: false, reason: 'not tried: WORKBENCH_BACKEND=webgpu' },
        { backend: 'webgpu', chosen: true, reason: 'forced by WORKBENCH_BACKEND (a software adapter)', adapter }
      ],
      notes: []
    }
    expect(describeBackendChoice(info)).toEqual([
      'backend: webgpu',
      'device:  cpu (CPU · webgpu on a software adapter (llvmpipe: Mesa 25.0.7))',
      'threads: 1',
      'adapter: llvmpipe: Mesa 25.0.7 (vendor mesa, architecture software, device llvmpipe) · software',
      'tried:',
      '  ✗ tensorflow not tried: WORKBENCH_BACKEND=webgpu',
      '  ✓ webgpu     chosen: forced by WORKBENCH_BACKEND (a software adapter)'
    ])
  })
})
