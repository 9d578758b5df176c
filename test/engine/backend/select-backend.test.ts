import { describe, expect, it } from 'vitest'
import { classifyImportError, findMissingCudaLibraries } from '../../../src/engine/backend/gpu-diagnosis'

describe('why no GPU', () => {
  it('tells a missing package from a missing native addon, a missing CUDA runtime and other load failures', () => {
    // The messages Node and tfjs-node actually produce in each case.
    const notInstalled = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /app/src/engine/backend/select-backend.ts"), { code: 'ERR_MODULE_NOT_FOUND' })
    expect(classifyImportError(notInstalled).code).toBe('package-not-installed')
    const noAddon = new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node.')
    expect(classifyImportError(noAddon).code).toBe('native-addon-missing')
    const noCuda = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory')
    const cuda = classifyImportError(noCuda)
    expect(cuda.code).toBe('no-cuda-runtime')
    expect(cuda.fix).toMatch(/CUDA 11\.2.*cuDNN 8\.1/)
    expect(classifyImportError(new Error('invalid ELF header')).code).toBe('native-load-failed')
  })

  it('lists the CUDA 11 / cuDNN 8 libraries it cannot find (none of them on this CPU machine)', () => {
    const missing = findMissingCudaLibraries()
    if (process.platform === 'linux') expect(missing).toEqual(expect.arrayContaining(['libcudart.so.11.0']))
  })
})

describe('backend selection', () => {
  it('rejects an unknown WORKBENCH_BACKEND, naming it', async () => {
    process.env['WORKBENCH_BACKEND'] = 'cuda'
    const { selectBackend } = await import('../../../src/engine/backend/select-backend')
    await expect(selectBackend()).rejects.toThrow(/WORKBENCH_BACKEND='cuda' is not a backend; use one of tensorflow, webgpu, wasm, cpu/)
    delete process.env['WORKBENCH_BACKEND']
  })

  it('falls back to wasm with the workbench kernels and says why there is no GPU', async () => {
    const { selectBackend } = await import('../../../src/engine/backend/select-backend')
    const tf = await import('@tensorflow/tfjs')
    const info = await selectBackend()
    expect(tf.getBackend()).toBe(info.backend)
    if (info.backend === 'wasm') {
      expect(info.device).toBe('cpu')
      expect(info.gpuProblem?.code).toBeDefined()
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined()
    }
  })
})
