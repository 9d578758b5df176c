import { defineStore } from 'pinia'
import { computed, getCurrentScope, onScopeDispose, ref, shallowRef, watch } from 'vue'
import type { AppInfo, EngineStatus } from '../../../shared/contract'
import { useWorkbench } from '../api'
import { useWorkbenchEvent } from '../composables/use-workbench-event'
import { useUiStore } from './ui-store'

/** The engine as the status bar shows it: connection, trainer process, backend and device, memory. */
export const useEngineStore = defineStore('engine', () => {
  const workbench = useWorkbench()
  const status = shallowRef<EngineStatus | null>(null)
  const appInfo = shallowRef<AppInfo | null>(null)
  const connection = ref<'connecting' | 'connected' | 'failed'>('connecting')
  const connectionError = ref('')

  const ui = useUiStore()

  useWorkbenchEvent('engine:status', (event) => {
    status.value = event.status
    connection.value = 'connected'
  })

  const offConnection = workbench.onConnectionChange((state) => {
    if (state === 'closed') {
      connection.value = 'failed'
      connectionError.value = 'the connection to the engine was lost'
      ui.notify('error', 'Lost the connection to the engine (was serve stopped?). Reload the page once it runs again.')
    }
  })
  if (getCurrentScope()) onScopeDispose(offConnection)

  // A trainer crash, in words, once per crash.
  watch(
    () => status.value?.lastCrash?.at,
    (at, before) => {
      const crash = status.value?.lastCrash
      if (!at || at === before || !crash) return
      ui.notify('error', `${crash.message[0]?.toUpperCase() ?? ''}${crash.message.slice(1)}.${crash.runId ? ` Run ${crash.runId} was interrupted; Resume in the monitor continues it from its last finished epoch.` : ''}`)
    }
  )

  /** Asks for the app info and engine status (which starts the backend probe). */
  async function load(): Promise<void> {
    try {
      const [info, engine] = await Promise.all([workbench.api.getAppInfo(), workbench.api.getEngineStatus()])
      appInfo.value = info
      status.value = engine
      connection.value = 'connected'
    } catch (error) {
      connection.value = 'failed'
      connectionError.value = (error as Error).message
    }
  }

  /** "CPU · wasm, 2 training threads", or what is known so far. */
  const backendLabel = computed(() => {
    const s = status.value
    if (!s) return connection.value === 'failed' ? 'engine not reachable' : 'connecting…'
    if (s.backend) return s.backend.label
    if (s.backendState === 'probing' || s.backendState === 'unknown') return 'finding the backend…'
    return 'backend unknown (the probe failed)'
  })

  const trainerLabel = computed(() => {
    const s = status.value
    if (!s) return ''
    const words: Record<EngineStatus['trainer'], string> = { stopped: 'trainer idle', starting: 'trainer starting', idle: 'trainer idle', busy: 'trainer busy', crashed: 'trainer crashed' }
    return words[s.trainer]
  })

  return { status, appInfo, connection, connectionError, backendLabel, trainerLabel, load }
})
