import { createBirpc } from 'birpc'
import type { WorkbenchClientFunctions, WorkbenchEvent } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'
import type { WireHandler, WorkbenchServer } from './create-workbench-server'

/**
 * One client's message channel, already (de)serialized: Electron IPC to one window, or one
 * WebSocket. Messages are plain objects.
 */
export interface MessageTransport {
  send(message: unknown): void
  /** Registers the listener for incoming messages. */
  onMessage(listener: (message: unknown) => void): void
}

/** birpc's wire format for a request (`t: 'q'`); responses are `t: 's'`. */
interface RpcRequestEnvelope {
  t: 'q'
  m: string
  a: unknown[]
  i?: string
}

const MAX_ID_LENGTH = 64

function isRequestEnvelope(value: unknown): value is RpcRequestEnvelope {
  const v = value as Partial<RpcRequestEnvelope> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    v.t === 'q' &&
    typeof v.m === 'string' &&
    v.m.length <= 64 &&
    Array.isArray(v.a) &&
    (v.i === undefined || (typeof v.i === 'string' && v.i.length <= MAX_ID_LENGTH))
  )
}

/** A birpc message that matches no pending call: birpc ignores it. How a dropped message is swallowed. */
const IGNORED = Object.freeze({ t: 's', i: '' })

/**
 * Serves the contract to one client over `transport`: requests go to the server's validating
 * handlers, every server event goes to the client. Only the contract's own request names resolve
 * (never `constructor`, `__proto__` or other inherited properties), and a malformed message gets a
 * typed error when it carries a call id, or is dropped when it does not.
 * @returns close: stops events and rejects nothing (the server makes no calls that await answers)
 */
export function connectClient(server: WorkbenchServer, transport: MessageTransport): { close(): void } {
  // Each client its own session (its own open project); a server without sessions shares its handlers.
  const session = server.connect?.() ?? { handlers: server.handlers, accepts: () => true }
  const handlers = session.handlers as Record<string, WireHandler>
  const rpc = createBirpc<WorkbenchClientFunctions, Record<string, WireHandler>>(handlers, {
    post: (message) => transport.send(message),
    on: (listener) => transport.onMessage(listener),
    eventNames: ['onEvent'],
    // The server never awaits the client, so no call of ours can time out.
    timeout: -1,
    deserialize: (message: unknown) => {
      if (isRequestEnvelope(message)) return message
      const id = (message as { i?: unknown } | null)?.i
      if (typeof id === 'string' && id.length <= MAX_ID_LENGTH) {
        transport.send({ t: 's', i: id, e: new ApiError('invalid-request', 'malformed request message').toData() })
      }
      return IGNORED
    },
    resolver: (name) =>
      Object.hasOwn(handlers, name)
        ? handlers[name]
        : async () => {
            throw new ApiError('unknown-request', `no request named "${name}"`).toData()
          },
    onGeneralError: (error) => {
      process.stderr.write(`workbench: rpc: ${error.message}\n`)
      return true
    }
  })
  const unsubscribe = server.onEvent((event: WorkbenchEvent) => {
    if (rpc.$closed || !session.accepts(event)) return
    rpc.onEvent(event).catch(() => undefined)
  })
  return {
    close() {
      unsubscribe()
      if (!rpc.$closed) rpc.$close()
    }
  }
}
