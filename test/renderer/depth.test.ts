import { describe, expect, it } from 'vitest'
import { listNetworkElements, listWeightLayers, maxTransferDepth } from '../../src/shared/vgg'
import { checkRangeOrder, clickDepth, depthsOf, formatDepths, layerRole, parseRangeField, rangeOf } from '../../src/renderer/src/lib/depth'

describe('the network picture’s layer table', () => {
  it('lists VGG11’s 11 weight layers with Keras names and the 5 pools between blocks', () => {
    const elements = listNetworkElements('vgg11_bn')
    const weights = elements.filter((e) => e.type === 'weight')
    expect(weights.map((e) => e.name)).toEqual([
      'block1_conv1',
      'block2_conv1',
      'block3_conv1',
      'block3_conv2',
      'block4_conv1',
      'block4_conv2',
      'block5_conv1',
      'block5_conv2',
      'fc1',
      'fc2',
      'predictions'
    ])
    expect(weights.map((e) => e.type === 'weight' && e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(elements.filter((e) => e.type === 'pool').map((e) => e.name)).toEqual(['block1_pool', 'block2_pool', 'block3_pool', 'block4_pool', 'block5_pool'])
    // A pool sits between block1_conv1 and block2_conv1.
    expect(elements.slice(0, 3).map((e) => e.name)).toEqual(['block1_conv1', 'block1_pool', 'block2_conv1'])
    expect(listWeightLayers('vgg16')).toHaveLength(16)
    expect(maxTransferDepth('vgg16')).toBe(15)
    expect(maxTransferDepth('vgg11_bn')).toBe(10)
    expect(listNetworkElements('vgg11', 0.125)[0]).toMatchObject({ units: 8 })
    expect(listNetworkElements('resnet')).toEqual([])
  })
})

describe('depth selection', () => {
  it('sets n with a click; in sweep mode a click sets the start and a shift-click the end', () => {
    const range = { from: 1, to: 10, step: 1 }
    expect(clickDepth(range, 4, 'single', false)).toEqual({ from: 4, to: 4, step: 1 })
    expect(clickDepth(range, 4, 'sweep', false)).toEqual({ from: 4, to: 10, step: 1 })
    expect(clickDepth({ from: 4, to: 10, step: 1 }, 7, 'sweep', true)).toEqual({ from: 4, to: 7, step: 1 })
    expect(clickDepth({ from: 6, to: 10, step: 1 }, 2, 'sweep', true)).toEqual({ from: 2, to: 6, step: 1 })
  })

  it('turns a range into depths (both ends included, clamped to the network) and back', () => {
    expect(depthsOf({ from: 0, to: 10, step: 3 }, 10)).toEqual([0, 3, 6, 9, 10])
    expect(depthsOf({ from: 2, to: 40, step: 2 }, 10)).toEqual([2, 4, 6, 8, 10])
    expect(depthsOf({ from: 5, to: 5, step: 1 }, 10)).toEqual([5])
    expect(rangeOf([2, 5, 8])).toEqual({ from: 2, to: 8, step: 3 })
    expect(rangeOf([1, 2, 7])).toBeNull()
    expect(formatDepths([3, 1, 2, 4])).toBe('1–4')
    expect(formatDepths([2, 5, 8])).toBe('2, 5, 8')
  })

  it('shades layers 1…n as copied (frozen or fine-tuned) and the rest as re-initialized', () => {
    expect([1, 3, 4].map((i) => layerRole(i, 3))).toEqual(['copied', 'copied', 'reinit'])
    // A sweep over n = 2…5: layers 3…5 are copied in some of its runs.
    expect([2, 3, 5, 6].map((i) => layerRole(i, 2, 5))).toEqual(['copied', 'partly', 'partly', 'reinit'])
    expect(layerRole(1, 0)).toBe('reinit')
  })
})

describe('typed depth ranges', () => {
  it('takes whole numbers within the network’s depths as typed', () => {
    expect(parseRangeField('from', '0', 10)).toEqual({ value: 0 })
    expect(parseRangeField('to', ' 10 ', 10)).toEqual({ value: 10 })
    expect(parseRangeField('step', '3', 10)).toEqual({ value: 3 })
  })

  it('refuses, with the field and value named, what the designer used to clamp or round silently', () => {
    expect(parseRangeField('to', '42', 10)).toEqual({ problem: 'to: n = 42 is outside 0–10, the depths this network has' })
    expect(parseRangeField('from', '-3', 10)).toEqual({ problem: 'from: n = -3 is outside 0–10, the depths this network has' })
    expect(parseRangeField('step', 'abc', 10)).toEqual({ problem: 'every: “abc” is not a whole number' })
    expect(parseRangeField('step', '0', 10)).toEqual({ problem: 'every: 0 is outside 1–10 (the step between depths)' })
    expect(parseRangeField('from', '2.5', 10)).toEqual({ problem: 'from: “2.5” is not a whole number' })
    expect(parseRangeField('to', '', 10)).toEqual({ problem: 'to: enter a whole number' })
  })

  it('says when the start is above the end instead of swapping them', () => {
    expect(checkRangeOrder({ from: 7, to: 3, step: 1 })).toMatch(/from \(7\) is above to \(3\)/)
    expect(checkRangeOrder({ from: 3, to: 3, step: 1 })).toBeNull()
  })
})
