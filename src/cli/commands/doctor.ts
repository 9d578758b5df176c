import { describeBackendChoice } from '../../shared/backend'
import { selectBackend } from '../../engine/backend/select-backend'

/**
 * `cli doctor`: which backend and device the engine would use, every backend it tried on the way and
 * why it was or was not chosen (the WebGPU adapter it found, the CUDA library that failed to load), and
 * without a GPU what to do about it; on wasm, which of the workbench's kernels run (`wasmKernels`:
 * "simd+fma", "simd" or "off"). `--json` prints the same as an object.
 */
export async function runDoctorCommand(argv: string[]): Promise<number> {
  const info = await selectBackend()
  const text = argv.includes('--json') ? JSON.stringify(info, null, 2) : describeBackendChoice(info).join('\n')
  process.stdout.write(`${text}\n`)
  return 0
}
