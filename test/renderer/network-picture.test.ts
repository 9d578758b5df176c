// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import NetworkPicture from '../../src/renderer/src/components/NetworkPicture.vue'

const base = { arch: 'vgg11_bn', width: 1, frozen: true }

describe('NetworkPicture', () => {
  it('draws one block per weight layer with the pools between, named as the engine names them', () => {
    const wrapper = mount(NetworkPicture, { props: { ...base, mode: 'single', range: { from: 3, to: 3, step: 1 } } })
    expect(wrapper.findAll('[data-layer-index]')).toHaveLength(12) // input (n = 0) + 11 weight layers
    expect(wrapper.findAll('.pool')).toHaveLength(5)
    expect(wrapper.find('[data-testid="layer-1"]').text()).toContain('block1_conv1')
    expect(wrapper.find('[data-testid="layer-11"]').text()).toContain('predictions')
    // n = 3: layers 1–3 copied, the rest re-initialized; the output layer cannot be copied.
    expect([1, 2, 3, 4, 10].map((i) => wrapper.find(`[data-testid="layer-${i}"]`).attributes('data-role'))).toEqual(['copied', 'copied', 'copied', 'reinit', 'reinit'])
    // Not `disabled`: a disabled button gets no hover, and hovering it shows its shape and parameters.
    expect(wrapper.find('[data-testid="layer-11"]').attributes('aria-disabled')).toBe('true')
    expect(wrapper.find('[data-testid="layer-3"]').attributes('aria-label')).toBe('block3_conv1 (layer 3, 256 channels): copied and frozen')
  })

  it('sets n with a click, moves it with the arrow keys, and never past the last copyable layer', async () => {
    const wrapper = mount(NetworkPicture, { props: { ...base, mode: 'single', range: { from: 3, to: 3, step: 1 } } })
    await wrapper.find('[data-testid="layer-7"]').trigger('click')
    expect(wrapper.emitted('update:range')?.at(-1)).toEqual([{ from: 7, to: 7, step: 1 }])
    await wrapper.find('[data-testid="layer-10"]').trigger('keydown', { key: 'ArrowRight' })
    expect(wrapper.emitted('update:range')?.at(-1)).toEqual([{ from: 10, to: 10, step: 1 }])
    await wrapper.find('[data-testid="layer-0"]').trigger('keydown', { key: 'ArrowLeft' })
    expect(wrapper.emitted('update:range')?.at(-1)).toEqual([{ from: 0, to: 0, step: 1 }])
  })

  it('in sweep mode: a click sets the start, shift-click the end; swept depths are marked and partly-copied layers shown', async () => {
    const wrapper = mount(NetworkPicture, { props: { ...base, mode: 'sweep', range: { from: 2, to: 8, step: 3 } } })
    expect(wrapper.findAll('.marker').map((m) => m.text()).filter(Boolean)).toEqual(['n=2', 'n=5', 'n=8'])
    expect(wrapper.find('[data-testid="layer-2"]').attributes('data-role')).toBe('copied')
    expect(wrapper.find('[data-testid="layer-5"]').attributes('data-role')).toBe('partly')
    expect(wrapper.find('[data-testid="layer-9"]').attributes('data-role')).toBe('reinit')
    await wrapper.find('[data-testid="layer-4"]').trigger('click')
    expect(wrapper.emitted('update:range')?.at(-1)).toEqual([{ from: 4, to: 8, step: 3 }])
    await wrapper.find('[data-testid="layer-6"]').trigger('click', { shiftKey: true })
    expect(wrapper.emitted('update:range')?.at(-1)).toEqual([{ from: 2, to: 6, step: 3 }])
  })

  it('shows copied layers as fine-tuned when only the + variants are chosen', () => {
    const wrapper = mount(NetworkPicture, { props: { ...base, frozen: false, mode: 'single', range: { from: 2, to: 2, step: 1 } } })
    expect(wrapper.find('[data-testid="layer-1"]').attributes('aria-label')).toMatch(/copied and fine-tuned/)
    expect(wrapper.text()).toContain('copied from the source, fine-tuned')
  })

  it('shows a hovered layer’s output shape and parameters for the chosen width, and offers it to the Inside view', async () => {
    const wrapper = mount(NetworkPicture, { props: { ...base, width: 0.25, classes: 5, inspectable: true, mode: 'single', range: { from: 2, to: 2, step: 1 } } })
    // block2_conv1 at width ¼: 32 → 32 channels after one pool, 16×16; 9·16·32 + 32 weights + 64 BN scale/shift.
    await wrapper.find('[data-testid="layer-2"]').trigger('mouseenter')
    expect(wrapper.find('[data-testid="layer-info-shape"]').text()).toBe('output 16×16×32')
    expect(wrapper.find('[data-testid="layer-info-params"]').text()).toBe('4,704 parameters (+64 batch-norm statistics, not trained)')
    await wrapper.find('[data-testid="layer-11"]').trigger('mouseenter')
    expect(wrapper.find('[data-testid="layer-info-shape"]').text()).toBe('output 5')
    expect(wrapper.find('[data-testid="layer-info-params"]').text()).toBe(`${(1024 * 5 + 5).toLocaleString('en-US')} parameters`)
    await wrapper.find('[data-testid="layer-11"]').trigger('mouseleave')
    expect(wrapper.find('[data-testid="layer-info-shape"]').exists()).toBe(false)
    await wrapper.find('[data-testid="inspect-layer-3"]').trigger('click')
    expect(wrapper.emitted('inspect')?.at(-1)).toEqual(['block3_conv1'])
    // Clicking the inspect button leaves the depth alone.
    expect(wrapper.emitted('update:range')).toBeUndefined()
  })
})
