// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { dataProgressText } from '../../src/renderer/src/lib/progress'

// runViz answers when the test says so, in any order: the stale-answer guard is what is tested.
const pending: { request: { runId: string }; resolve: (data: unknown) => void; reject: (error: Error) => void }[] = []
const runViz = vi.fn(
  (input: { kind: string; request: { runId: string } }) =>
    new Promise((resolve, reject) => pending.push({ request: input.request, resolve: (data) => resolve({ data, png: null }), reject }))
)
vi.mock('../../src/renderer/src/api', () => ({ useWorkbench: () => ({ api: { runViz }, on: () => () => {} }) }))
const { useVizRequest } = await import('../../src/renderer/src/composables/use-viz-request')

function setUp(clearOnChange: boolean) {
  pending.length = 0
  const request = ref<{ runId: string } | null>({ runId: 'a' })
  const scope = effectScope()
  const state = scope.run(() => useVizRequest('histograms', request, { clearOnChange }))!
  return { request, state, scope }
}

describe('useVizRequest', () => {
  it('keeps the answer of the latest request, whatever order the answers come in', async () => {
    const { request, state, scope } = setUp(false)
    request.value = { runId: 'b' }
    await nextTick()
    request.value = { runId: 'c' }
    await nextTick()
    expect(pending.map((p) => p.request.runId)).toEqual(['a', 'b', 'c'])
    pending[2]!.resolve(['answer c'])
    await flushPromises()
    pending[0]!.resolve(['answer a'])
    pending[1]!.reject(new Error('late'))
    await flushPromises()
    expect(state.result.value).toEqual(['answer c'])
    expect(state.error.value).toBe('')
    expect(state.loading.value).toBe(false)
    scope.stop()
  })

  it('shows the last answer while the next loads, or nothing when told to clear', async () => {
    for (const clearOnChange of [false, true]) {
      const { request, state, scope } = setUp(clearOnChange)
      pending[0]!.resolve(['answer a'])
      await flushPromises()
      request.value = { runId: 'b' }
      await nextTick()
      expect(state.loading.value).toBe(true)
      expect(state.result.value).toEqual(clearOnChange ? null : ['answer a'])
      // No request: nothing shown, nothing loading (the answer to 'b' is dropped).
      request.value = null
      await nextTick()
      pending[1]!.resolve(['answer b'])
      await flushPromises()
      expect(state.result.value).toBeNull()
      expect(state.loading.value).toBe(false)
      scope.stop()
    }
  })

  it('reports the error of the current request only', async () => {
    const { request, state, scope } = setUp(true)
    pending[0]!.reject(new Error('no such run'))
    await flushPromises()
    expect(state.error.value).toBe('no such run')
    request.value = { runId: 'b' }
    await nextTick()
    expect(state.error.value).toBe('')
    scope.stop()
  })
})

describe('dataProgressText', () => {
  it("names the reader's step and counts", () => {
    expect(dataProgressText({ phase: 'decode', done: 1200, total: 5000 })).toBe('decoding images 1,200/5,000')
    expect(dataProgressText({ phase: 'something-new', done: 1, total: 2 })).toBe('something-new 1/2')
  })
})
