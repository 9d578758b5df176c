// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { WorkbenchEvent } from '../../src/shared/contract'
import type { FeatureStudyResult } from '../../src/shared/features'
import type { VizLayerInfo } from '../../src/shared/viz'

// The engine as the view sees it: runViz lists layers, startFeatureStudy answers with an id, events
// come through `on` (the test pushes them), cancel is recorded.
const LAYERS: VizLayerInfo[] = [
  { name: 'block1_conv1', label: 'conv 1-1', kind: 'conv', index: 1, channels: 4, outputSize: 32, trainable: true },
  { name: 'block1_conv2', label: 'conv 1-2', kind: 'conv', index: 2, channels: 4, outputSize: 32, trainable: true },
  { name: 'block2_conv1', label: 'conv 2-1', kind: 'conv', index: 3, channels: 8, outputSize: 16, trainable: true },
  { name: 'fc1', label: 'fc1', kind: 'dense', index: 4, channels: 16, outputSize: 1, trainable: true }
]
const JOB = '00000000-0000-4000-8000-000000000001'
const listeners = new Map<string, Set<(e: WorkbenchEvent) => void>>()
const emit = (event: WorkbenchEvent): void => listeners.get(event.type)?.forEach((l) => l(event))
let answerStart: ((v: { jobId: string }) => void) | null = null
const api = {
  runViz: vi.fn(async () => ({ data: LAYERS, png: null })),
  startFeatureStudy: vi.fn(() => new Promise<{ jobId: string }>((resolve) => (answerStart = resolve))),
  cancelFeatureStudy: vi.fn(async () => undefined),
  getProject: vi.fn(),
  getRecentProjects: vi.fn()
}
vi.mock('../../src/renderer/src/api', () => ({
  useWorkbench: () => ({
    api,
    on: (type: string, listener: (e: WorkbenchEvent) => void) => {
      if (!listeners.has(type)) listeners.set(type, new Set())
      listeners.get(type)!.add(listener)
      return () => listeners.get(type)!.delete(listener)
    }
  })
}))

const { useProjectStore } = await import('../../src/renderer/src/stores/project-store')
const { useFeaturesStore } = await import('../../src/renderer/src/stores/features-store')
const FeaturesView = (await import('../../src/renderer/src/views/FeaturesView.vue')).default

const base = { id: 'base-A', kind: 'base', variant: null, n: null, sourceRunId: null, from: null, to: 'A', experimentId: 'e1', dataset: 'demo', classes: ['stripes-h', 'checker'], status: 'done', createdAt: '2024-01-01' }
const experiment = { id: 'e1', name: 'A→B', dataset: 'demo', groups: { A: ['stripes-h', 'checker'], B: ['disc', 'ring', 'cross'] }, bases: ['A'], transfers: [], config: {} }
const curve = [{ epoch: 1, trainLoss: 1, trainAcc: 0.5, testLoss: 1.1, testAcc: 0.4 }]
const RESULT: FeatureStudyResult = {
  source: 'base-A',
  layer: 'fc1',
  pooling: 'avg',
  dataset: 'demo',
  classNames: ['disc', 'ring', 'cross'],
  preprocessing: { name: 'checkpoint', channelOrder: 'rgb', mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] },
  inputSize: 32,
  backend: 'wasm',
  cacheSeconds: 1,
  cacheHits: 0,
  cacheMisses: 3,
  headEpochSeconds: 0.0005,
  fullEpochSeconds: 0.0185,
  speedup: 37,
  timedImages: 48,
  testPerClass: null,
  testImages: 300,
  shots: [
    { k: 2, meanAcc: 0.5, stdAcc: 0.02, ci95: [0.444, 0.556], testImages: 300, accs: [0.5], curve },
    { k: 4, meanAcc: 0.6, stdAcc: 0, ci95: [0.544, 0.654], testImages: 300, accs: [0.6], curve }
  ],
  probes: [{ layer: 'block1_conv2', depth: 2, dims: 4, acc: 0.45, stdAcc: 0, ci95: [0.395, 0.507], testImages: 300, curve }],
  temperatureMode: 'head',
  temperatures: [
    { T: 1, acc: 0.5, stdAcc: 0, ci95: [0.444, 0.556], testImages: 300, curve },
    { T: 4, acc: 0.55, stdAcc: 0, ci95: [0.494, 0.605], testImages: 300, curve }
  ],
  warnings: [],
  notes: []
}

function openProject(dir = '/p'): void {
  useProjectStore().project = { dir, manifest: { name: 'p', experiments: [experiment] }, runs: [base] } as never
}

beforeEach(() => {
  setActivePinia(createPinia())
  listeners.clear()
  vi.clearAllMocks()
  answerStart = null
})

describe('Features view', () => {
  it('picks the base run, its fc1, the block ends to probe and the other group’s classes', async () => {
    openProject()
    const wrapper = mount(FeaturesView)
    await flushPromises()
    expect(api.runViz).toHaveBeenCalledWith({ kind: 'layers', request: { runId: 'base-A' } })
    expect((wrapper.find('[data-testid="fs-run"]').element as HTMLSelectElement).value).toBe('base-A')
    expect((wrapper.find('[data-testid="fs-layer"]').element as HTMLSelectElement).value).toBe('fc1')
    expect((wrapper.find('[data-testid="fs-classes"]').element as HTMLInputElement).value).toBe('disc, ring, cross')
    expect((wrapper.find('[data-testid="fs-probe-block1_conv2"]').element as HTMLInputElement).checked).toBe(true)
    expect((wrapper.find('[data-testid="fs-probe-block1_conv1"]').element as HTMLInputElement).checked).toBe(false)
    expect(wrapper.find('[data-testid="fs-empty"]').exists()).toBe(true)
    // Every control has a visible label.
    for (const control of wrapper.findAll('input:not([type="radio"]):not([type="checkbox"]), select')) expect(control.element.closest('label')).not.toBeNull()
  })

  it('runs a study: progress with phase, count and rate, then the charts, kept for the project', async () => {
    openProject()
    const wrapper = mount(FeaturesView)
    await flushPromises()
    await wrapper.find('[data-testid="fs-shots"]').setValue('2, 4')
    await wrapper.find('[data-testid="fs-probes-none"]').trigger('click')
    await wrapper.find('[data-testid="fs-probe-block1_conv2"]').setValue(true)
    await wrapper.find('[data-testid="fs-temperatures"]').setValue('1 4')
    await wrapper.find('form').trigger('submit')
    expect(api.startFeatureStudy).toHaveBeenCalledWith(
      expect.objectContaining({ source: 'base-A', layer: 'fc1', classes: ['disc', 'ring', 'cross'], shots: [2, 4], probeLayers: ['block1_conv2'], temperatures: [1, 4], timeFullPass: true })
    )
    // An event that overtakes the answer still counts.
    emit({ type: 'features:progress', jobId: JOB, progress: { phase: 'caching', message: 'Caching fc1', done: 0, total: 96 } })
    answerStart!({ jobId: JOB })
    await flushPromises()
    expect(wrapper.find('[data-testid="fs-progress-text"]').text()).toBe('Caching activations · 0/96 images')
    expect(wrapper.find('[data-testid="fs-start"]').attributes('disabled')).toBeDefined()

    const store = useFeaturesStore()
    const t0 = Date.now()
    store.onProgress({ phase: 'caching', message: 'Caching fc1', done: 48, total: 96 }, t0 + 1000)
    await flushPromises()
    expect(wrapper.find('[data-testid="fs-progress-text"]').text()).toMatch(/^Caching activations · 48\/96 images · \d+(\.\d)? images\/s$/)
    expect(wrapper.find('[role="progressbar"]').attributes('aria-valuenow')).toBe('50')

    emit({ type: 'features:done', jobId: JOB, result: RESULT })
    await flushPromises()
    expect(wrapper.find('[data-testid="fs-progress"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="fs-chart-shots"]').attributes('data-points')).toBe('2')
    expect(wrapper.find('[data-testid="fs-chart-probes"]').attributes('data-points')).toBe('1')
    expect(wrapper.find('[data-testid="fs-chart-temperature"]').attributes('data-points')).toBe('2')
    expect(wrapper.find('[data-testid="fs-speedup"]').text()).toMatch(/^37×/)
    expect(wrapper.find('[data-testid="fs-cached-epoch"]').text()).toBe('0.50 ms')
    expect(wrapper.find('[data-testid="fs-full-epoch"]').text()).toBe('19 ms')
    expect(wrapper.findAll('[data-testid="fs-table-shots"] tbody tr')).toHaveLength(2)
    // Every accuracy with its std, Wilson interval and test-set size; the overlapping trends in words.
    expect(wrapper.find('[data-testid="fs-test-set"]').text()).toBe('300 test images (every test image of the classes)')
    expect(wrapper.findAll('[data-testid="fs-table-shots"] tbody tr')[0]!.findAll('td').map((td) => td.text())).toEqual(['2', '50.0% ± 2.0%', '44.4–55.6%', '300', '50%'])
    expect(wrapper.find('[data-testid="fs-table-probes"] tbody tr').findAll('td').map((td) => td.text())).toEqual(['block1_conv2', '2', '4', '45.0% ± 0.0%', '39.5–50.7%', '300'])
    expect(wrapper.findAll('[data-testid="fs-table-temperatures"] tbody tr')[1]!.findAll('td').map((td) => td.text())).toEqual(['4', '55.0% ± 0.0%', '49.4–60.5%', '300'])
    // k=2 (44.4–55.6 %) and k=4 (54.4–65.4 %) overlap, as do T=1 and T=4.
    expect(wrapper.findAll('[data-testid="fs-trend-warning"]').map((w) => w.text())).toEqual([
      expect.stringMatching(/^few-shot curve: k=2 and k=4 differ by less than their uncertainty/),
      expect.stringMatching(/^temperatures: T=1 and T=4 differ by less than their uncertainty/)
    ])

    // Back to the view later: the result is still there; another project shows its own (none).
    wrapper.unmount()
    const again = mount(FeaturesView)
    await flushPromises()
    expect(again.find('[data-testid="fs-chart-shots"]').exists()).toBe(true)
    openProject('/other')
    await flushPromises()
    expect(again.find('[data-testid="fs-result"]').exists()).toBe(false)
    expect(again.find('[data-testid="fs-empty"]').exists()).toBe(true)
  })

  it('cancels: the request goes out once, the study ends as cancelled, and a failure is shown in words', async () => {
    openProject()
    const wrapper = mount(FeaturesView)
    await flushPromises()
    await wrapper.find('form').trigger('submit')
    answerStart!({ jobId: JOB })
    await flushPromises()
    await wrapper.find('[data-testid="fs-cancel"]').trigger('click')
    await wrapper.find('[data-testid="fs-cancel"]').trigger('click')
    expect(api.cancelFeatureStudy).toHaveBeenCalledTimes(1)
    expect(api.cancelFeatureStudy).toHaveBeenCalledWith({ jobId: JOB })
    expect(wrapper.find('[data-testid="fs-progress"]').text()).toMatch(/Cancelling/)
    emit({ type: 'features:failed', jobId: JOB, error: { code: 'cancelled', message: 'cancelled' } as never, cancelled: true })
    await flushPromises()
    expect(wrapper.find('[data-testid="fs-progress"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="fs-outcome"]').text()).toMatch(/^Cancelled/)

    await wrapper.find('form').trigger('submit')
    answerStart!({ jobId: JOB })
    await flushPromises()
    emit({ type: 'features:failed', jobId: JOB, error: { code: 'invalid-request', message: "no layer 'fc9'" } as never, cancelled: false })
    await flushPromises()
    expect(wrapper.find('[data-testid="fs-outcome"]').text()).toBe("Failed: no layer 'fc9'")
  })

  it('refuses to run a draft with problems and says which', async () => {
    openProject()
    const wrapper = mount(FeaturesView)
    await flushPromises()
    await wrapper.find('[data-testid="fs-shots"]').setValue('two')
    expect(wrapper.find('[data-testid="fs-errors"]').text()).toMatch(/Shots: 'two'/)
    expect(wrapper.find('[data-testid="fs-start"]').attributes('disabled')).toBeDefined()
    await wrapper.find('form').trigger('submit')
    expect(api.startFeatureStudy).not.toHaveBeenCalled()
  })
})
