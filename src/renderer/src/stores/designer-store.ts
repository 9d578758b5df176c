import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { ExperimentPlan } from '../../../shared/contract'
import type { Experiment } from '../../../shared/project'
import type { TrainConfig } from '../../../shared/train-config'
import { maxTransferDepth } from '../../../shared/vgg'
import { useWorkbench } from '../api'
import { depthsOf } from '../lib/depth'
import { blankDraft, draftFromExperiment, experimentFromDraft, type Draft } from '../lib/draft'
import { checkGroups, copyGroups, type GroupPreset } from '../lib/groups'

export type { Draft, TransferPair } from '../lib/draft'

/** The designer's draft, kept while the user looks at other views, and the engine's plan of it. */
export const useDesignerStore = defineStore('designer', () => {
  const workbench = useWorkbench()
  const draft = ref<Draft>(blankDraft('demo'))
  const plan = shallowRef<ExperimentPlan | null>(null)
  const planError = ref('')
  let planTimer: ReturnType<typeof setTimeout> | undefined
  let planSeq = 0

  const maxN = computed(() => maxTransferDepth(draft.value.config.arch))
  const depths = computed(() => depthsOf(draft.value.mode === 'single' ? { ...draft.value.range, to: draft.value.range.from } : draft.value.range, maxN.value))
  const experiment = computed(() => experimentFromDraft(draft.value))
  /** Warnings the designer finds itself (the engine's come with the plan). */
  const localWarnings = computed(() => checkGroups(draft.value.groups, draft.value.pairs))
  const problems = computed(() => {
    const out: string[] = []
    if (draft.value.pairs.length === 0) out.push('add a transfer: a source group and a target group')
    if (draft.value.variants.length === 0) out.push('pick at least one variant')
    for (const p of draft.value.pairs) {
      if (!(p.from in draft.value.groups) || !(p.to in draft.value.groups)) out.push(`transfer ${p.from}→${p.to} names a group that does not exist`)
    }
    return out
  })

  function edit(next: Draft): void {
    draft.value = next
  }

  function load(experiment: Experiment): void {
    draft.value = draftFromExperiment(experiment)
  }

  function reset(dataset: string): void {
    draft.value = blankDraft(dataset)
  }

  function applyPreset(preset: GroupPreset): void {
    draft.value = { ...draft.value, groups: copyGroups(preset.groups), pairs: preset.transfers.map((t) => ({ ...t })), name: preset.label.replace(/\s*\(.*\)$/, '') }
  }

  function setConfig(config: TrainConfig): void {
    const maxDepth = maxTransferDepth(config.arch)
    const range = { ...draft.value.range, from: Math.min(draft.value.range.from, maxDepth), to: Math.min(draft.value.range.to, maxDepth) }
    draft.value = { ...draft.value, config, range }
  }

  /** Asks the engine for the runs and warnings (debounced; the last answer wins). */
  function schedulePlan(): void {
    clearTimeout(planTimer)
    planTimer = setTimeout(async () => {
      const seq = ++planSeq
      if (problems.value.length > 0 || Object.values(draft.value.groups).some((g) => g.length < 2)) {
        plan.value = null
        planError.value = ''
        return
      }
      try {
        const answer = await workbench.api.planExperiment({ experiment: experiment.value })
        if (seq !== planSeq) return
        plan.value = answer
        planError.value = ''
      } catch (error) {
        if (seq !== planSeq) return
        plan.value = null
        planError.value = (error as Error).message
      }
    }, 250)
  }
  watch(experiment, schedulePlan, { deep: true, immediate: true })

  return { draft, plan, planError, maxN, depths, experiment, localWarnings, problems, edit, load, reset, applyPreset, setConfig }
})
