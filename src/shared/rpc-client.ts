/**
 * The client side of the contract, transport-agnostic: the renderer runs it over the Electron bridge or
 * a WebSocket (renderer/src/api/transport.ts), the tests over an in-memory channel or a WebSocket.
 */
import { createBirpc } from 'birpc'
import type { WorkbenchApi, WorkbenchClientFunctions, WorkbenchEvent, WorkbenchEventType } from './contract'
import { ApiError, isApiErrorData } from './contract-errors'

/** A message channel to the server, already (de)serialized: the Electron bridge or a WebSocket. */
export interface Transport {
  send(message: unknown): void
  /** Registers a listener for incoming messages; returns the unsubscribe function. */
  onMessage(listener: (message: unknown) => void): () => void
  /** Which transport this is, for diagnostics only (the rest of the app must not care). */
  readonly kind: 'electron' | 'websocket'
  /** Reports when the channel opens or drops (a WebSocket can; the Electron bridge never drops). Returns the unsubscribe function. */
  onStateChange?(listener: (state: 'open' | 'closed') => void): () => void
  close?(): void
}

type EventOf<T extends WorkbenchEventType> = Extract<WorkbenchEvent, { type: T }>

/** The API as the UI uses it: typed requests, typed event subscriptions. */
export interface WorkbenchClient {
  readonly api: WorkbenchApi
  /** Subscribes to one event type; returns the unsubscribe function (call it on unmount). */
  on<T extends WorkbenchEventType>(type: T, listener: (event: EventOf<T>) => void): () => void
  /** Subscribes to every event. */
  onAny(listener: (event: WorkbenchEvent) => void): () => void
  /** Tells when the connection to the engine opens or drops; returns the unsubscribe function. */
  onConnectionChange(listener: (state: 'open' | 'closed') => void): () => void
  close(): void
}

/** Requests that take longer than this have a bug: long work answers with an id at once. */
const REQUEST_TIMEOUT_MS = 120_000

/**
 * Runs the contract over a transport with birpc. Failed requests reject with `ApiError` (rebuilt from
 * the plain object that crossed the wire), so callers can switch on `error.code`.
 */
export function createWorkbenchClient(transport: Transport): WorkbenchClient {
  const listeners = new Set<(event: WorkbenchEvent) => void>()
  const local: WorkbenchClientFunctions = {
    onEvent(event) {
      for (const listener of listeners) listener(event)
    }
  }
  let unsubscribeTransport: (() => void) | undefined
  const rpc = createBirpc<WorkbenchApi, WorkbenchClientFunctions>(local, {
    post: (message) => transport.send(message),
    on: (listener) => {
      unsubscribeTransport = transport.onMessage(listener)
    },
    timeout: REQUEST_TIMEOUT_MS
  })
  const api = new Proxy({} as WorkbenchApi, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then') return undefined
      return async (...args: unknown[]) => {
        try {
          return await (rpc.$call as (method: string, ...a: unknown[]) => Promise<unknown>)(name, ...args)
        } catch (error) {
          throw isApiErrorData(error) ? ApiError.fromData(error) : error
        }
      }
    }
  })
  return {
    api,
    on(type, listener) {
      const filtered = (event: WorkbenchEvent): void => {
        if (event.type === type) listener(event as EventOf<typeof type>)
      }
      listeners.add(filtered)
      return () => listeners.delete(filtered)
    },
    onAny(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    onConnectionChange(listener) {
      return transport.onStateChange?.(listener) ?? (() => undefined)
    },
    close() {
      unsubscribeTransport?.()
      rpc.$close()
      transport.close?.()
    }
  }
}
