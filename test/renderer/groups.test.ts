import { describe, expect, it } from 'vitest'
import { addClass, checkGroupName, checkGroups, createGroup, deleteGroup, listPresets, moveClass, randomHalves, renameGroup } from '../../src/renderer/src/lib/groups'

const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
const DEMO = ['stripes-h', 'stripes-v', 'checker', 'disc', 'ring', 'cross', 'triangle', 'gradient', 'dots', 'noise-blobs']

describe('group editing', () => {
  it('adds from the pool (the pool keeps every class), moves between groups, copies on request, and takes out', () => {
    let groups = { A: [], B: [] } as Record<string, string[]>
    groups = moveClass(groups, 'cat', null, 'A', { order: CIFAR10 })
    groups = moveClass(groups, 'bird', null, 'A', { order: CIFAR10 })
    expect(groups.A).toEqual(['bird', 'cat']) // kept in label order
    groups = moveClass(groups, 'cat', 'A', 'B')
    expect(groups).toEqual({ A: ['bird'], B: ['cat'] })
    groups = moveClass(groups, 'bird', 'A', 'B', { copy: true })
    expect(groups).toEqual({ A: ['bird'], B: ['cat', 'bird'] })
    groups = moveClass(groups, 'cat', 'B', null)
    expect(groups).toEqual({ A: ['bird'], B: ['bird'] })
    expect(addClass(groups, 'A', 'bird')).toBe(groups) // already there: unchanged
  })

  it('creates, renames (keeping the order) and deletes groups, refusing names the engine would refuse', () => {
    let groups = createGroup({ A: ['cat'], B: [] })
    expect(Object.keys(groups)).toEqual(['A', 'B', 'C'])
    groups = renameGroup(groups, 'B', 'Vehicles')
    expect(Object.keys(groups)).toEqual(['A', 'Vehicles', 'C'])
    expect(checkGroupName(groups, '2nd')).toMatch(/start with a letter/)
    expect(checkGroupName(groups, 'A')).toMatch(/already a group A/)
    expect(checkGroupName(groups, 'A', 'A')).toBeNull()
    expect(() => renameGroup(groups, 'A', 'has space')).toThrow(/letters, digits/)
    expect(Object.keys(deleteGroup(groups, 'C'))).toEqual(['A', 'Vehicles'])
  })

  it('warns when a transfer’s source and target share classes, and about groups too small to train', () => {
    expect(checkGroups({ A: ['cat', 'dog'], B: ['dog', 'frog'] }, [{ from: 'A', to: 'B' }])).toEqual([expect.stringMatching(/source A and target B share dog/)])
    expect(checkGroups({ A: ['cat'], B: ['dog', 'frog'] }, [])).toEqual(['group A needs at least 2 classes (has 1)'])
    expect(checkGroups({ A: ['cat', 'dog'], B: ['frog', 'ship'] }, [{ from: 'A', to: 'B' }])).toEqual([])
  })
})

describe('presets', () => {
  it('random halves are disjoint, cover every class, and depend only on the seed', () => {
    const halves = randomHalves(DEMO, 7)
    expect([...halves.A, ...halves.B].sort()).toEqual([...DEMO].sort())
    expect(halves.A.filter((c) => halves.B.includes(c))).toEqual([])
    expect(halves.A).toHaveLength(5)
    expect(randomHalves(DEMO, 7)).toEqual(halves)
    expect(randomHalves(DEMO, 8)).not.toEqual(halves)
  })

  it('offers the seed report’s A/B and A1/A2/V only where the dataset has those classes', () => {
    expect(listPresets(DEMO, 0).map((p) => p.id)).toEqual(['random-halves'])
    const cifar = listPresets(CIFAR10, 0)
    expect(cifar.map((p) => p.id)).toEqual(['random-halves', 'seed-ab', 'seed-similarity'])
    expect(cifar[1]?.groups).toEqual({ A: ['cat', 'deer', 'dog', 'horse', 'ship'], B: ['airplane', 'automobile', 'bird', 'frog', 'truck'] })
    expect(cifar[2]?.transfers).toContainEqual({ from: 'A1', to: 'A2' })
  })
})
