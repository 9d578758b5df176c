// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import GroupBoard from '../../src/renderer/src/components/GroupBoard.vue'

const CLASSES = ['cat', 'dog', 'frog', 'ship']

function mountBoard(groups: Record<string, string[]>) {
  const wrapper = mount(GroupBoard, { props: { classNames: CLASSES, groups }, attachTo: document.body })
  // Behave like v-model: feed every update back in.
  const updates = (): Record<string, string[]>[] => (wrapper.emitted('update:groups') ?? []).map((e) => e[0] as Record<string, string[]>)
  const last = (): Record<string, string[]> | undefined => updates()[updates().length - 1]
  return { wrapper, updates, last }
}

/** A drag-and-drop payload as the board writes it (happy-dom has no real drag). */
function dataTransfer(className: string, from: string | null) {
  const data: Record<string, string> = { 'application/x-workbench-class': JSON.stringify({ className, from }), 'text/plain': className }
  return { types: Object.keys(data), getData: (type: string) => data[type] ?? '', setData: () => undefined, dropEffect: 'move', effectAllowed: 'copyMove' }
}

describe('GroupBoard', () => {
  it('puts the focused class into group n with key n, and takes it out with 0 or Delete', async () => {
    const { wrapper, last } = mountBoard({ A: ['cat'], B: [] })
    await wrapper.find('[data-testid="chip-frog"]').trigger('keydown', { key: '2' })
    expect(last()).toEqual({ A: ['cat'], B: ['frog'] })
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[data-testid="group-B-frog"]').trigger('keydown', { key: '1' })
    expect(last()).toEqual({ A: ['cat', 'frog'], B: [] }) // moved, in the dataset's order
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[data-testid="group-A-cat"]').trigger('keydown', { key: 'Delete' })
    expect(last()).toEqual({ A: ['frog'], B: [] })
    // A key with no group behind it does nothing.
    const count = (wrapper.emitted('update:groups') ?? []).length
    await wrapper.find('[data-testid="chip-dog"]').trigger('keydown', { key: '7' })
    expect((wrapper.emitted('update:groups') ?? []).length).toBe(count)
    wrapper.unmount()
  })

  it('drops a chip from the pool into a group, between groups (Ctrl copies), and back to the pool', async () => {
    const { wrapper, last } = mountBoard({ A: ['cat'], B: ['dog'] })
    await wrapper.find('[data-testid="group-A"]').trigger('drop', { dataTransfer: dataTransfer('ship', null) })
    expect(last()).toEqual({ A: ['cat', 'ship'], B: ['dog'] })
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[data-testid="group-B"]').trigger('drop', { dataTransfer: dataTransfer('cat', 'A') })
    expect(last()).toEqual({ A: ['ship'], B: ['cat', 'dog'] })
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[data-testid="group-A"]').trigger('drop', { dataTransfer: dataTransfer('dog', 'B'), ctrlKey: true })
    expect(last()).toEqual({ A: ['dog', 'ship'], B: ['cat', 'dog'] })
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[data-testid="class-pool"]').trigger('drop', { dataTransfer: dataTransfer('dog', 'B') })
    expect(last()).toEqual({ A: ['dog', 'ship'], B: ['cat'] })
    // Something that is not a class of this dataset is ignored.
    const count = (wrapper.emitted('update:groups') ?? []).length
    await wrapper.find('[data-testid="group-A"]').trigger('drop', { dataTransfer: dataTransfer('unicorn', null) })
    expect((wrapper.emitted('update:groups') ?? []).length).toBe(count)
    wrapper.unmount()
  })

  it('creates, renames and deletes groups, refusing a name the engine would refuse', async () => {
    const { wrapper, last } = mountBoard({ A: ['cat'], B: [] })
    await wrapper.find('[data-testid="add-group"]').trigger('click')
    expect(Object.keys(last() ?? {})).toEqual(['A', 'B', 'C'])
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[aria-label="Rename group A"]').trigger('click')
    const input = wrapper.find('input[data-rename="A"]')
    await input.setValue('9lives')
    await input.trigger('keydown', { key: 'Enter' })
    expect(wrapper.text()).toMatch(/start with a letter/)
    await input.setValue('Animals')
    await input.trigger('keydown', { key: 'Enter' })
    expect(last()).toEqual({ Animals: ['cat'], B: [], C: [] })
    await wrapper.setProps({ groups: last() })
    await wrapper.find('[aria-label="Delete group C"]').trigger('click')
    expect(last()).toEqual({ Animals: ['cat'], B: [] })
    wrapper.unmount()
  })
})
