import { utilityProcess, type UtilityProcess } from 'electron'
import type { ProbeProcess } from '../engine/api/backend-probe'
import type { TrainerProcess } from '../engine/process/trainer-host'

/**
 * Adapts an Electron utility process to the engine's process interfaces, so the engine's
 * TrainerHost and backend probe run unchanged under Electron. Utility processes report only an
 * exit code, never a signal.
 */
export function adaptUtilityProcess(child: UtilityProcess): TrainerProcess & ProbeProcess {
  let exitCode: number | undefined
  const exitListeners: ((code: number | null, signal: string | null) => void)[] = []
  child.once('exit', (code) => {
    exitCode = code
    for (const listener of exitListeners.splice(0)) listener(code, null)
  })
  return {
    get pid() {
      return child.pid
    },
    postMessage: (message) => {
      if (exitCode === undefined) child.postMessage(message)
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => {
      if (exitCode !== undefined) queueMicrotask(() => listener(exitCode as number, null))
      else exitListeners.push(listener)
    },
    kill: () => {
      child.kill()
    }
  }
}

/**
 * Forks a built entry (an electron-vite `?modulePath` import) as a utility process.
 * @param serviceName shown in the OS task manager and in crash reports
 */
export function forkUtilityProcess(modulePath: string, serviceName: string, env: NodeJS.ProcessEnv = process.env): TrainerProcess & ProbeProcess {
  return adaptUtilityProcess(
    utilityProcess.fork(modulePath, [], {
      serviceName,
      // Claim GPU memory as needed instead of all of it up front (libtensorflow's default).
      env: { ...env, TF_FORCE_GPU_ALLOW_GROWTH: 'true' },
      stdio: 'inherit'
    })
  )
}
