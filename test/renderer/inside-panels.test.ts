// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { FilterGrid, Prediction, VizLayerInfo } from '../../src/shared/viz'

// The engine as the panels see it: runViz answers by kind; exports come back as a PNG data URL.
const calls: { kind: string; request: Record<string, unknown>; png?: boolean }[] = []
const LAYERS: VizLayerInfo[] = [
  { name: 'block1_conv1', label: 'conv 1-1', kind: 'conv', index: 1, channels: 4, outputSize: 32, trainable: false },
  { name: 'block2_conv1', label: 'conv 2-1', kind: 'conv', index: 2, channels: 8, outputSize: 16, trainable: true },
  { name: 'fc1', label: 'fc1', kind: 'dense', index: 3, channels: 16, outputSize: 1, trainable: true }
]
const tile = (channels: 1 | 3) => ({ width: 3, height: 3, channels, values: Array.from({ length: 9 * channels }, (_, i) => (i % 7) / 6) })
function filters(request: Record<string, unknown>): FilterGrid {
  const mode = request['mode'] as FilterGrid['mode']
  const perFilter = mode === 'channels' ? 3 : 1
  return {
    layer: String(request['layer']),
    label: 'conv',
    mode,
    kernelSize: [3, 3],
    inputChannels: 3,
    outputChannels: 4,
    shownInputChannels: perFilter === 3 ? 3 : 1,
    filters: Array.from({ length: 4 }, (_, index) => ({ index, min: -1, max: 1, norm: 1, tiles: Array.from({ length: perFilter }, () => tile(mode === 'rgb' ? 3 : 1)) }))
  }
}
const prediction: Prediction = { temperature: 1, top: [{ label: 1, className: 'ring', probability: 0.7, logit: 2 }, { label: 0, className: 'disc', probability: 0.3, logit: 1 }] }
const runViz = vi.fn(async (input: { kind: string; request: Record<string, unknown>; png?: boolean }) => {
  calls.push(input)
  const png = input.png ? 'data:image/png;base64,iVBORw0KGgo=' : null
  switch (input.kind) {
    case 'layers':
      return { data: LAYERS, png }
    case 'filters':
      return { data: filters(input.request), png }
    case 'histograms':
      return { data: [], png }
    case 'predict':
      return { data: { ...prediction, temperature: input.request['temperature'] }, png }
    case 'activations':
      return {
        data: { layer: 'block1_conv1', label: 'conv 1-1', outputLayer: 'block1_conv1_relu', channelCount: 4, scale: { min: 0, max: 1, colormap: 'viridis', mode: 'shared' }, maps: Array.from({ length: Number(input.request['maps']) || 4 }, (_, channel) => ({ channel, width: 4, height: 4, min: 0, max: 1, mean: 0.5, values: Array(16).fill(0.5) })) },
        png
      }
    default:
      return { data: null, png }
  }
})
vi.mock('../../src/renderer/src/api', () => ({ useWorkbench: () => ({ api: { runViz, getProject: vi.fn(), getRecentProjects: vi.fn() }, on: () => () => {} }) }))

const { useProjectStore } = await import('../../src/renderer/src/stores/project-store')
const { useInsideStore } = await import('../../src/renderer/src/stores/inside-store')
const FiltersPanel = (await import('../../src/renderer/src/components/inside/FiltersPanel.vue')).default
const PredictionsPanel = (await import('../../src/renderer/src/components/inside/PredictionsPanel.vue')).default
const ActivationsPanel = (await import('../../src/renderer/src/components/inside/ActivationsPanel.vue')).default

const run = { id: 'base-A', kind: 'base', variant: null, n: null, sourceRunId: null, from: null, to: 'A', classes: ['disc', 'ring'], bestEpoch: 1, config: { arch: 'vgg11_bn' }, status: 'done', createdAt: '2024-01-01' }

async function ready(): Promise<ReturnType<typeof useInsideStore>> {
  const projects = useProjectStore()
  projects.project = { dir: '/p', manifest: { name: 'p', experiments: [] }, runs: [run] } as never
  const inside = useInsideStore()
  inside.start()
  await flushPromises()
  return inside
}

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
})

describe('Inside panels', () => {
  it('picks the run with weights and its first conv layer', async () => {
    const inside = await ready()
    expect(inside.runId).toBe('base-A')
    expect(inside.layerName).toBe('block1_conv1')
    expect(calls[0]).toMatchObject({ kind: 'layers', request: { runId: 'base-A' } })
  })

  it('draws first-layer filters as RGB tiles, switches to per-input-channel grids, and exports a PNG', async () => {
    await ready()
    const wrapper = mount(FiltersPanel)
    await flushPromises()
    expect(calls.find((c) => c.kind === 'filters')?.request).toMatchObject({ runId: 'base-A', layer: 'block1_conv1', mode: 'rgb' })
    expect(wrapper.find('[data-testid="filters-grid"]').attributes('data-tiles')).toBe('4')
    expect(wrapper.findAll('[data-testid="filters-grid"] canvas')).toHaveLength(4)

    await wrapper.find('[data-testid="filter-mode-channels"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="filters-grid"]').attributes('data-tiles')).toBe('12')
    expect(wrapper.find('[data-testid="filter-mode-channels"]').attributes('aria-checked')).toBe('true')

    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    await wrapper.find('[data-testid="filters-png"]').trigger('click')
    await flushPromises()
    expect(calls.at(-1)).toMatchObject({ kind: 'filters', png: true, request: { mode: 'channels' } })
    expect(click).toHaveBeenCalledTimes(1)
    click.mockRestore()
  })

  it('offers no RGB for deeper layers and explains dense layers', async () => {
    const inside = await ready()
    inside.layerName = 'block2_conv1'
    const wrapper = mount(FiltersPanel)
    await flushPromises()
    expect(wrapper.find('[data-testid="filter-mode-rgb"]').attributes('disabled')).toBeDefined()
    expect(calls.filter((c) => c.kind === 'filters').at(-1)?.request['mode']).toBe('mean')
    inside.layerName = 'fc1'
    await flushPromises()
    expect(wrapper.text()).toContain('fc1 is a dense layer')
    expect(wrapper.find('[data-testid="filters-grid"]').exists()).toBe(false)
  })

  it('shows N activation maps of the chosen image with a colour scale, and all of them on request', async () => {
    const inside = await ready()
    inside.image = { source: { kind: 'split', split: 'val', position: 2 }, preview: '', caption: 'disc' }
    const wrapper = mount(ActivationsPanel)
    await flushPromises()
    expect(calls.find((c) => c.kind === 'activations')?.request).toMatchObject({ layer: 'block1_conv1', maps: 6, image: { kind: 'split', position: 2 } })
    expect(wrapper.find('[data-testid="activation-maps"]').attributes('data-maps')).toBe('6')
    expect(wrapper.find('[data-testid="color-scale"]').exists()).toBe(true)
    await wrapper.find('[data-testid="maps-count"]').setValue('3')
    await flushPromises()
    expect(wrapper.findAll('[data-testid="activation-maps"] canvas')).toHaveLength(3)
    await wrapper.find('[data-testid="maps-all"]').setValue(true)
    await flushPromises()
    expect(calls.filter((c) => c.kind === 'activations').at(-1)?.request['maps']).toBe('all')
  })

  it('lists predictions with probability bars and asks again at another temperature', async () => {
    const inside = await ready()
    inside.image = { source: { kind: 'data-url', dataUrl: 'data:image/png;base64,xx' }, preview: '', caption: 'file' }
    const wrapper = mount(PredictionsPanel)
    await flushPromises()
    const rows = wrapper.findAll('[data-testid="prediction-row"]')
    expect(rows.map((r) => r.text())).toEqual([expect.stringContaining('ring'), expect.stringContaining('disc')])
    expect(Number(wrapper.find('[data-testid="predictions"]').attributes('data-sum'))).toBeCloseTo(1)
    await wrapper.find('[data-testid="temperature"]').setValue('2')
    await flushPromises()
    expect(calls.filter((c) => c.kind === 'predict').at(-1)?.request).toMatchObject({ temperature: 2, image: { kind: 'data-url' } })
  })
})
