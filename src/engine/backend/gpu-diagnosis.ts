import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { GpuProblem } from '../../shared/backend'

// libtensorflow 2.9.1 (inside tfjs-node-gpu 4.22.0) is built against these exact major versions.
const CUDA_LIBS = ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'] as const

/** Classifies the error thrown while importing `@tensorflow/tfjs-node-gpu`. */
export function classifyImportError(error: unknown): GpuProblem {
  const text = String((error as Error)?.message ?? error)
  if (/Cannot find (module|package) '@tensorflow\/tfjs-node-gpu'|ERR_MODULE_NOT_FOUND/.test(text) && !/tfjs_binding/.test(text)) {
    return {
      code: 'package-not-installed',
      message: '@tensorflow/tfjs-node-gpu is not installed (its install downloads libtensorflow, which failed or was skipped).',
      fix: 'On a machine with internet access run `npm install @tensorflow/tfjs-node-gpu@4.22.0`; on Linux/Windows x64 with an NVIDIA GPU it brings libtensorflow 2.9.1.'
    }
  }
  if (/tfjs_binding\.node|native addon/i.test(text)) {
    return {
      code: 'native-addon-missing',
      message: '@tensorflow/tfjs-node-gpu is present but its native addon (tfjs_binding.node) is missing.',
      fix: 'Reinstall it with network access: `npm rebuild @tensorflow/tfjs-node-gpu` (or remove and install 4.22.0 again).'
    }
  }
  if (/lib(cudart|cublas|cudnn|cufft|curand|cusolver|cusparse)/.test(text)) {
    return missingCudaProblem(text)
  }
  return {
    code: 'native-load-failed',
    message: `@tensorflow/tfjs-node-gpu failed to load: ${text.split('\n')[0]}`,
    fix: 'Check that libtensorflow matches this platform (linux-x64 or win-x64) and reinstall @tensorflow/tfjs-node-gpu@4.22.0.'
  }
}

function missingCudaProblem(detail: string): GpuProblem {
  return {
    code: 'no-cuda-runtime',
    message: `No CUDA 11.2 / cuDNN 8.1 runtime found (${detail}).`,
    fix: 'Install the CUDA 11.2 runtime and cuDNN 8.1 (libtensorflow 2.9 needs exactly these majors) and put their lib folders on LD_LIBRARY_PATH (Linux) or PATH (Windows).'
  }
}

/** Folders the dynamic loader searches, plus the usual CUDA install places. */
function libraryFolders(): string[] {
  const fromEnv = (process.env['LD_LIBRARY_PATH'] ?? '').split(delimiter).filter(Boolean)
  const cudaHomes = ['/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64']
  try {
    for (const entry of readdirSync('/usr/local')) if (entry.startsWith('cuda-')) cudaHomes.push(join('/usr/local', entry, 'lib64'))
  } catch {
    // No /usr/local (Windows): nothing to add.
  }
  return [...fromEnv, ...cudaHomes]
}

/** The CUDA libraries libtensorflow 2.9 needs that the loader would not find. */
export function findMissingCudaLibraries(): string[] {
  if (process.platform !== 'linux') return []
  let ldconfig = ''
  try {
    ldconfig = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    // ldconfig may be absent (containers); fall back to scanning folders.
  }
  const folders = libraryFolders()
  return CUDA_LIBS.filter((lib) => !ldconfig.includes(lib) && !folders.some((dir) => existsSync(join(dir, lib))))
}

/** Whether the machine shows an NVIDIA GPU at all (device node or driver tool). */
export function hasNvidiaDevice(): boolean {
  if (process.platform === 'linux' && existsSync('/dev/nvidia0')) return true
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/**
 * Explains why a loaded tfjs-node-gpu is running on the CPU: no GPU device, or no matching CUDA runtime.
 */
export function explainCpuOnlyTensorflow(): GpuProblem {
  if (!hasNvidiaDevice()) {
    return {
      code: 'no-gpu-device',
      message: 'No NVIDIA GPU device was found (no /dev/nvidia0, no nvidia-smi).',
      fix: 'Install the NVIDIA driver, or run the workbench on a GPU machine (serve mode works over an SSH tunnel).'
    }
  }
  const missing = findMissingCudaLibraries()
  return missingCudaProblem(missing.length > 0 ? `missing ${missing.join(', ')}` : 'TensorFlow found no usable GPU device')
}
