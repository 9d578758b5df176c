/**
 * Entry of the one-shot backend probe: picks the tfjs backend exactly as the trainer will (same
 * machine, same environment), reports it to the parent, and waits to be ended. It runs in its own
 * process so the API host (Electron main, serve) never loads tfjs or a native CUDA library itself.
 */
import { selectBackend } from '../backend/select-backend'
import type { ProbeMessage } from './backend-probe'

interface ElectronParentPort {
  postMessage(message: unknown): void
}

const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
const post = (message: ProbeMessage): void => {
  if (parentPort) parentPort.postMessage(message)
  else process.send?.(message)
}
// If the parent goes away without ending us, do not linger.
process.on('disconnect', () => process.exit(0))

selectBackend().then(
  (info) => post({ type: 'backend', info: JSON.parse(JSON.stringify(info)) }),
  (error: unknown) => post({ type: 'error', message: String((error as Error)?.message ?? error) })
)
