/**
 * Entry of the trainer process. Under Electron it runs as a utilityProcess (`process.parentPort`),
 * elsewhere under `child_process.fork` (`process.send`). Training never runs in main or the renderer.
 */
import type { FromTrainer, MessagePort, ToTrainer } from './trainer-protocol'
import { serveTrainer } from './trainer-service'

interface ElectronParentPort {
  postMessage(message: unknown): void
  on(event: 'message', listener: (event: { data: unknown }) => void): void
}

function connectToParent(): MessagePort<ToTrainer, FromTrainer> {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
  if (parentPort) {
    return {
      postMessage: (m) => parentPort.postMessage(m),
      onMessage: (listener) => parentPort.on('message', (e) => listener(e.data as ToTrainer))
    }
  }
  if (!process.send) throw new Error('trainer-entry must be started as a child process with an IPC channel')
  // A parent that died (even by kill -9) must not leave an orphan writing into a run folder that a
  // resumed sweep is about to take over: stop with it. Atomic writes make the stop safe.
  process.on('disconnect', () => process.exit(0))
  return {
    postMessage: (m) => process.send?.(m),
    onMessage: (listener) => process.on('message', (m) => listener(m as ToTrainer))
  }
}

serveTrainer(connectToParent(), () => process.exit(0))
