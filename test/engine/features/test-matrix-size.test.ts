import { describe, expect, it } from 'vitest'
import { checkTestMatrixSize, MAX_TEST_MATRIX_BYTES } from '../../../src/engine/features/study'

// The default test set is every test image: a flattened early conv layer must be refused before extraction, by name.
describe('checkTestMatrixSize', () => {
  it('refuses a test matrix over the limit, naming the layer, the size and the way out', () => {
    expect(() => checkTestMatrixSize(10_000, [{ layer: 'fc2', dims: 4096 }, { layer: 'block3_conv1', dims: 256 * 56 * 56 }])).toThrow(
      /^block3_conv1: 10000 test images × 802816 feature dims would be 29\.9 GB in memory \(limit 2 GB\); pass --test-per-class N/
    )
  })
  it('accepts a matrix at the limit', () => {
    expect(() => checkTestMatrixSize(MAX_TEST_MATRIX_BYTES / 4 / 512, [{ layer: 'block5_pool', dims: 512 }])).not.toThrow()
    expect(() => checkTestMatrixSize(MAX_TEST_MATRIX_BYTES / 4 / 512 + 1, [{ layer: 'block5_pool', dims: 512 }])).toThrow(/block5_pool/)
  })
})
