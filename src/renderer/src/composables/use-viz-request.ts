import { ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue'
import type { VizCalls, VizKind } from '../../../shared/viz-calls'
import { useInsideStore } from '../stores/inside-store'

/**
 * Keeps a "look inside" answer in step with its request: asks again whenever the request changes,
 * and drops an answer (or error) that arrives after the request has moved on.
 */
export function useVizRequest<K extends VizKind>(
  kind: K,
  request: Readonly<Ref<VizCalls[K][0] | null>>
): { result: ShallowRef<VizCalls[K][1] | null>; error: Ref<string>; loading: Ref<boolean> } {
  const inside = useInsideStore()
  const result = shallowRef<VizCalls[K][1] | null>(null)
  const error = ref('')
  const loading = ref(false)
  async function load(): Promise<void> {
    const req = request.value
    error.value = ''
    if (!req) {
      result.value = null
      return
    }
    loading.value = true
    try {
      const answer = await inside.call(kind, req)
      if (request.value === req) result.value = answer
    } catch (e) {
      if (request.value === req) error.value = (e as Error).message
    } finally {
      if (request.value === req) loading.value = false
    }
  }
  watch(request, load, { immediate: true })
  return { result, error, loading }
}
