import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { EngineBackend } from '../../shared/contract'

/** What the probe process sends back. */
export type ProbeMessage = { type: 'backend'; info: EngineBackend } | { type: 'error'; message: string }

/** The little a probe needs of its process (Node's fork and Electron's utilityProcess both fit). */
export interface ProbeProcess {
  onMessage(listener: (message: unknown) => void): void
  onExit(listener: (code: number | null) => void): void
  kill(): void
}

/** Starts a probe process (the host decides how: fork on Node, utilityProcess in Electron). */
export type LaunchProbe = () => ProbeProcess

const ENTRY = fileURLToPath(new URL('./backend-probe-entry.ts', import.meta.url))

/** Starts the probe entry under Node's `child_process.fork`, TypeScript through tsx (CLI, serve, tests). */
export function forkBackendProbe(env: NodeJS.ProcessEnv = process.env): ProbeProcess {
  const child = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  return {
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => child.kill('SIGKILL')
  }
}

/**
 * Runs one probe: resolves with the backend the trainer will use, or rejects with why not. The
 * process is always ended afterwards.
 */
export function probeBackend(launch: LaunchProbe, timeoutMs = 120_000): Promise<EngineBackend> {
  return new Promise((resolve, reject) => {
    const proc = launch()
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      proc.kill()
      fn()
    }
    const timer = setTimeout(() => settle(() => reject(new Error(`the backend probe did not answer within ${timeoutMs / 1000} s`))), timeoutMs)
    proc.onMessage((raw) => {
      const message = raw as ProbeMessage
      if (message?.type === 'backend') settle(() => resolve(message.info))
      else if (message?.type === 'error') settle(() => reject(new Error(message.message)))
    })
    proc.onExit((code) => settle(() => reject(new Error(`the backend probe exited (code ${code}) without an answer`))))
  })
}
