// @vitest-environment happy-dom
/**
 * The image picker, the confusion-cell images and the compare panel ask the engine through
 * useVizRequest: what they ask for, what they show, and that a late answer to an old request is dropped.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { VizLayerInfo } from '../../src/shared/viz'

type Call = { kind: string; request: Record<string, unknown> }
const calls: Call[] = []
/** Answers held back until the test releases them (by kind), to answer out of order. */
const held = new Map<string, (() => void)[]>()
const holding = new Set<string>()
const LAYERS: VizLayerInfo[] = [{ name: 'block1_conv1', label: 'conv 1-1', kind: 'conv', index: 1, channels: 4, outputSize: 32, trainable: false }]
const image = (position: number, runId = '') => ({ index: position, position, source: `demo:${position}`, label: 0, className: 'disc', dataUrl: `data:image/png;base64,${runId}${position}` })
function answer(call: Call): unknown {
  const r = call.request
  switch (call.kind) {
    case 'layers':
      return LAYERS
    case 'splitImages': {
      const offset = Number(r['offset'])
      return { split: 'val', total: 30, offset, images: Array.from({ length: Math.min(24, 30 - offset) }, (_, i) => image(offset + i, String(r['runId']))) }
    }
    case 'cellImages':
      return { split: r['split'], trueLabel: r['trueLabel'], predictedLabel: r['predictedLabel'], total: 1, images: [{ ...image(0), source: `${String(r['runId'])}#${String(r['trueLabel'])}`, predictedProbability: 0.9, trueProbability: 0.1 }] }
    case 'compareSummary':
      return {
        baseRunId: 'base-A',
        targetRunId: r['runId'],
        variant: 'AnB',
        n: 1,
        layers: [{ layer: 'block1_conv1', label: 'conv 1-1', index: 1, kind: 'conv', transferred: true, frozen: true, identical: true, relativeChange: 0, shapeMatches: true }]
      }
    case 'compareLayer':
      return { layer: r['layer'], label: 'conv 1-1', kind: 'conv', baseRunId: 'base-A', targetRunId: r['runId'], transferred: true, frozen: true, identical: true, relativeChange: 0, filters: [], base: null, target: null }
    default:
      return null
  }
}
const runViz = vi.fn((input: Call) => {
  calls.push(input)
  return new Promise((resolve) => {
    const reply = (): void => resolve({ data: answer(input), png: null })
    if (holding.has(input.kind)) held.set(input.kind, [...(held.get(input.kind) ?? []), reply])
    else reply()
  })
})
vi.mock('../../src/renderer/src/api', () => ({ useWorkbench: () => ({ api: { runViz, getProject: vi.fn(), getRecentProjects: vi.fn() }, on: () => () => {} }) }))

const { useProjectStore } = await import('../../src/renderer/src/stores/project-store')
const { useInsideStore } = await import('../../src/renderer/src/stores/inside-store')
const ImagePicker = (await import('../../src/renderer/src/components/inside/ImagePicker.vue')).default
const CellImages = (await import('../../src/renderer/src/components/inside/CellImages.vue')).default
const ComparePanel = (await import('../../src/renderer/src/components/inside/ComparePanel.vue')).default

const run = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'base', variant: null, n: null, sourceRunId: null, from: null, to: 'A', classes: ['disc', 'ring'], bestEpoch: 1, config: { arch: 'vgg11_bn' }, status: 'done', createdAt: '2024-01-01', ...extra })

function openProject(runs: ReturnType<typeof run>[]): ReturnType<typeof useInsideStore> {
  useProjectStore().project = { dir: '/p', manifest: { name: 'p', experiments: [] }, runs } as never
  return useInsideStore()
}

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
  held.clear()
  holding.clear()
})

describe('ImagePicker', () => {
  it('shows the first page, picks its first image, pages on, and starts again at the first page for another run', async () => {
    const inside = openProject([run('base-A'), run('base-B')])
    const wrapper = mount(ImagePicker)
    await flushPromises()
    expect(calls.at(-1)).toMatchObject({ kind: 'splitImages', request: { runId: 'base-A', split: 'val', offset: 0, limit: 24 } })
    expect(wrapper.findAll('[role="option"]')).toHaveLength(24)
    expect(inside.image?.source).toEqual({ kind: 'split', split: 'val', position: 0 })

    await wrapper.find('[aria-label="Next images"]').trigger('click')
    await flushPromises()
    expect(calls.at(-1)?.request).toMatchObject({ runId: 'base-A', offset: 24 })
    expect(wrapper.findAll('[role="option"]')).toHaveLength(6)

    const before = calls.length
    inside.chooseRun('base-B')
    await flushPromises()
    // One request for the new run, at its first page (none for the old offset).
    expect(calls.slice(before).filter((c) => c.kind === 'splitImages').map((c) => c.request)).toEqual([{ runId: 'base-B', split: 'val', offset: 0, limit: 24 }])
  })

  it('drops a page that arrives after another run was chosen', async () => {
    const inside = openProject([run('base-A'), run('base-B')])
    holding.add('splitImages')
    const wrapper = mount(ImagePicker)
    await flushPromises()
    holding.delete('splitImages')
    inside.chooseRun('base-B')
    await flushPromises()
    // The first run's page comes last.
    held.get('splitImages')![0]!()
    await flushPromises()
    expect(wrapper.find('[data-testid="split-image-0"] img').attributes('src')).toBe('data:image/png;base64,base-B0')
    expect(inside.image?.preview).toBe('data:image/png;base64,base-B0')
  })
})

describe('CellImages', () => {
  const props = { runId: 'base-A', split: 'val' as const, classNames: ['disc', 'ring'], counts: [[5, 2], [1, 7]] }

  it('asks for a cell when it is clicked, and forgets the cell for another run', async () => {
    const wrapper = mount(CellImages, { props })
    await wrapper.find('[data-testid="confusion-cell-0-1"]').trigger('click')
    await flushPromises()
    expect(calls.at(-1)).toMatchObject({ kind: 'cellImages', request: { runId: 'base-A', split: 'val', trueLabel: 0, predictedLabel: 1, limit: 24 } })
    expect(wrapper.find('[data-testid="cell-images"]').attributes('data-count')).toBe('1')
    expect(wrapper.find('[data-testid="confusion-cell-0-1"]').attributes('aria-pressed')).toBe('true')

    const before = calls.length
    await wrapper.setProps({ runId: 'base-B' })
    await flushPromises()
    expect(calls.length).toBe(before)
    expect(wrapper.find('[data-testid="cell-images"]').exists()).toBe(false)
  })

  it("shows the images of the cell clicked last, even when an earlier cell's answer comes later", async () => {
    const wrapper = mount(CellImages, { props })
    holding.add('cellImages')
    await wrapper.find('[data-testid="confusion-cell-0-1"]').trigger('click')
    await flushPromises()
    holding.delete('cellImages')
    await wrapper.find('[data-testid="confusion-cell-1-0"]').trigger('click')
    await flushPromises()
    held.get('cellImages')![0]!()
    await flushPromises()
    expect(wrapper.text()).toContain('ring predicted as disc')
    expect(wrapper.text()).not.toContain('disc predicted as ring')
  })
})

describe('ComparePanel', () => {
  it('compares the transferred model with its base, then the chosen layer', async () => {
    openProject([run('base-A'), run('AnB-1', { kind: 'transfer', variant: 'AnB', n: 1, sourceRunId: 'base-A', to: 'B' })])
    const wrapper = mount(ComparePanel)
    await flushPromises()
    expect(calls.find((c) => c.kind === 'compareSummary')?.request).toEqual({ runId: 'AnB-1' })
    expect(wrapper.find('[data-testid="compare-row-block1_conv1"]').attributes('data-fate')).toBe('frozen')
    expect(calls.find((c) => c.kind === 'compareLayer')?.request).toEqual({ runId: 'AnB-1', layer: 'block1_conv1', mode: 'rgb' })
    expect(wrapper.find('[data-testid="compare-detail"]').exists()).toBe(true)
  })
})
