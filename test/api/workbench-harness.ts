import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { forkBackendProbe } from '../../src/engine/api/backend-probe'
import { connectClient } from '../../src/engine/api/connect-client'
import { createWorkbenchServer, type WorkbenchServer, type WorkbenchServerOptions } from '../../src/engine/api/create-workbench-server'
import { createJsonSettingsStore } from '../../src/engine/api/settings-store'
import { forkTrainerProcess } from '../../src/engine/process/trainer-host'
import { createWorkbenchClient, type Transport, type WorkbenchClient } from '../../src/shared/rpc-client'
import type { StartRunInput, WorkbenchEvent } from '../../src/shared/contract'

/** The engine on its portable CPU path, whatever the machine has. */
export const WASM_ENV = { ...process.env, WORKBENCH_BACKEND: 'wasm' }

/** A tiny demo run: 10 classes × 16 images, width 1/16, batches of 32 (5 batches an epoch). */
export function tinyRun(overrides: StartRunInput['config'] = {}): StartRunInput {
  return { dataset: 'demo', config: { width: 1 / 16, epochs: 2, batchSize: 32, trainPerClass: 16, logEveryBatches: 1, lr: 0.05, seed: 3, ...overrides } }
}

/** A real server (real trainer process, real probe) on a temp folder. */
export async function createTestServer(options: Partial<WorkbenchServerOptions> = {}): Promise<{ server: WorkbenchServer; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'wb-api-'))
  const server = createWorkbenchServer({
    host: 'test',
    appVersion: '0.0.0-test',
    runsDir: join(dir, 'runs'),
    launchTrainer: () => forkTrainerProcess(WASM_ENV),
    launchProbe: () => forkBackendProbe(WASM_ENV),
    settings: createJsonSettingsStore(join(dir, 'settings.json')),
    cancelGraceMs: 10_000,
    ...options
  })
  return { server, dir }
}

/**
 * The renderer's own RPC client connected to the server in memory, each message passed through
 * structuredClone as Electron IPC does (so nothing works here that would not survive a real transport).
 */
export function connectInMemory(server: WorkbenchServer): WorkbenchClient {
  const toClient = new Set<(m: unknown) => void>()
  const toServer = new Set<(m: unknown) => void>()
  const deliver = (listeners: Set<(m: unknown) => void>, message: unknown): void => {
    const copy = structuredClone(message)
    queueMicrotask(() => listeners.forEach((l) => l(copy)))
  }
  connectClient(server, { send: (m) => deliver(toClient, m), onMessage: (l) => void toServer.add(l) })
  const transport: Transport = {
    kind: 'electron',
    send: (m) => deliver(toServer, m),
    onMessage: (l) => {
      toClient.add(l)
      return () => toClient.delete(l)
    }
  }
  return createWorkbenchClient(transport)
}

/** Records every event a client receives, and waits for particular ones. */
export function recordEvents(client: WorkbenchClient): { events: WorkbenchEvent[]; waitFor<T extends WorkbenchEvent>(match: (e: WorkbenchEvent) => e is T, timeoutMs?: number): Promise<T>; waitFor(match: (e: WorkbenchEvent) => boolean, timeoutMs?: number): Promise<WorkbenchEvent> } {
  const events: WorkbenchEvent[] = []
  const waiters = new Set<{ match: (e: WorkbenchEvent) => boolean; resolve: (e: WorkbenchEvent) => void }>()
  client.onAny((event) => {
    events.push(event)
    for (const waiter of waiters) {
      if (waiter.match(event)) {
        waiters.delete(waiter)
        waiter.resolve(event)
      }
    }
  })
  const waitFor = (match: (e: WorkbenchEvent) => boolean, timeoutMs = 120_000): Promise<WorkbenchEvent> => {
    const seen = events.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for an event')), timeoutMs)
      waiters.add({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) })
    })
  }
  return { events, waitFor: waitFor as never }
}

/** The run:status event that ends a run (done, cancelled, failed, interrupted). */
export const runEnded =
  (runId: string) =>
  (e: WorkbenchEvent): e is Extract<WorkbenchEvent, { type: 'run:status' }> =>
    e.type === 'run:status' && e.run.runId === runId && !['running', 'cancelling', 'queued'].includes(e.run.status)
