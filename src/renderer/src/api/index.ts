import { createWorkbenchClient, type WorkbenchClient } from '../../../shared/rpc-client'
import { detectTransport } from './transport'

let client: WorkbenchClient | undefined

/** The app's one connection to the engine, created on first use. */
export function useWorkbench(): WorkbenchClient {
  client ??= createWorkbenchClient(detectTransport())
  return client
}

export type { WorkbenchClient } from '../../../shared/rpc-client'
