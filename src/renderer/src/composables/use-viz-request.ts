import { ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue'
import type { VizCalls, VizKind } from '../../../shared/viz-calls'
import { useWorkbench } from '../api'

export interface VizRequestOptions {
  /**
   * Drop the shown answer as soon as the request changes (the panel shows nothing until the new one
   * arrives). Off: the last answer stays up while the next is asked, e.g. under a "busy" veil.
   */
  clearOnChange?: boolean
}

/**
 * Keeps a "look inside" answer in step with its request: asks again whenever the request changes,
 * and drops an answer (or error) that arrives after the request has moved on. A null request asks
 * nothing and shows nothing.
 */
export function useVizRequest<K extends VizKind>(
  kind: K,
  request: Readonly<Ref<VizCalls[K][0] | null>>,
  options: VizRequestOptions = {}
): { result: ShallowRef<VizCalls[K][1] | null>; error: Ref<string>; loading: Ref<boolean> } {
  const workbench = useWorkbench()
  const result = shallowRef<VizCalls[K][1] | null>(null)
  const error = ref('')
  const loading = ref(false)
  async function load(): Promise<void> {
    const req = request.value
    error.value = ''
    if (!req || options.clearOnChange) result.value = null
    if (!req) {
      loading.value = false
      return
    }
    loading.value = true
    try {
      const answer = await workbench.api.runViz({ kind, request: req })
      if (request.value === req) result.value = answer.data as VizCalls[K][1]
    } catch (e) {
      if (request.value === req) error.value = (e as Error).message
    } finally {
      if (request.value === req) loading.value = false
    }
  }
  watch(request, load, { immediate: true })
  return { result, error, loading }
}
