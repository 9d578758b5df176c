// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, type TrainConfig } from '../../src/shared/train-config'
import TrainingSettings from '../../src/renderer/src/components/TrainingSettings.vue'

describe('TrainingSettings', () => {
  it('starts from the seed recipe, switches to the quick-look preset, and applies a typed value', async () => {
    const wrapper = mount(TrainingSettings, { props: { config: resolveTrainConfig({}) } })
    expect(wrapper.find('[data-testid="preset-seed"]').attributes('aria-pressed')).toBe('true')
    expect((wrapper.find('[data-testid="cfg-epochs"]').element as HTMLInputElement).value).toBe(String(DEFAULT_TRAIN_CONFIG.epochs))
    await wrapper.find('[data-testid="preset-quick"]').trigger('click')
    const quick = wrapper.emitted('update:config')?.at(-1)?.[0] as TrainConfig
    expect(quick).toMatchObject({ width: 0.125, trainPerClass: 200 })
    await wrapper.setProps({ config: quick })
    expect(wrapper.find('[data-testid="preset-quick"]').attributes('aria-pressed')).toBe('true')
    await wrapper.find('[data-testid="cfg-epochs"]').setValue('3')
    expect(wrapper.emitted('update:config')?.at(-1)?.[0]).toMatchObject({ epochs: 3, width: 0.125 })
  })

  it('refuses a value the recipe’s checks refuse, naming the key, and leaves the config as it was', async () => {
    const wrapper = mount(TrainingSettings, { props: { config: resolveTrainConfig({}) } })
    await wrapper.find('[data-testid="cfg-batch"]').setValue('0')
    expect(wrapper.emitted('update:config')).toBeUndefined()
    expect(wrapper.find('[role="alert"]').text()).toMatch(/config\.batchSize: 0 is outside/)
    await wrapper.find('[data-testid="cfg-per-class"]').setValue('')
    expect(wrapper.emitted('update:config')?.at(-1)?.[0]).toMatchObject({ trainPerClass: null })
  })
})
