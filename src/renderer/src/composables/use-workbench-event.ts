import { getCurrentScope, onScopeDispose } from 'vue'
import type { WorkbenchEvent, WorkbenchEventType } from '../../../shared/contract'
import { useWorkbench } from '../api'

type EventOf<T extends WorkbenchEventType> = Extract<WorkbenchEvent, { type: T }>

/**
 * Subscribes to one engine event for as long as the calling component (or store) lives: the
 * subscription ends on unmount, so a closed view never keeps a listener.
 */
export function useWorkbenchEvent<T extends WorkbenchEventType>(type: T, listener: (event: EventOf<T>) => void): () => void {
  const off = useWorkbench().on(type, listener)
  if (getCurrentScope()) onScopeDispose(off)
  return off
}
