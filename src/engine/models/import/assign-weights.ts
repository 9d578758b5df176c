import * as tf from '@tensorflow/tfjs'
import { PretrainedImportError, weightRole, type LayerWeights, type NamedWeight } from './import-error'

const shapeText = (shape: readonly (number | null)[]): string => (shape.length === 0 ? 'a scalar' : shape.join('×'))

/**
 * Pairs a layer's variables with the file's arrays: by role (`kernel`, `bias`, `gamma` …) when the
 * file names them so, else by position (files that number their variables).
 */
function pairWeights(variables: tf.LayerVariable[], stored: NamedWeight[]): (NamedWeight | undefined)[] {
  const byRole = new Map(stored.map((w) => [weightRole(w.name), w]))
  const roles = variables.map((v) => weightRole(v.originalName))
  if (roles.every((r) => byRole.has(r))) return roles.map((r) => byRole.get(r))
  return variables.map((_, i) => stored[i])
}

/**
 * Sets every weight of the model from the file's arrays, matched by layer name, checking each shape
 * first: nothing is written unless everything fits. Returns the names of file layers the model did
 * not use (for a note).
 * @throws PretrainedImportError listing each layer or weight that is missing or of the wrong shape
 */
export function assignWeightsByName(model: tf.LayersModel, stored: LayerWeights, file: string): string[] {
  const problems: string[] = []
  const plan: { layer: tf.layers.Layer; arrays: NamedWeight[] }[] = []
  for (const layer of model.layers) {
    const variables = layer.weights
    if (variables.length === 0) continue
    const found = stored.get(layer.name)
    if (!found) {
      problems.push(`layer '${layer.name}' is missing from the file`)
      continue
    }
    if (found.length !== variables.length) {
      problems.push(`layer '${layer.name}' has ${found.length} weight arrays in the file, the model needs ${variables.length} (${variables.map((v) => weightRole(v.originalName)).join(', ')})`)
      continue
    }
    const paired = pairWeights(variables, found)
    const arrays: NamedWeight[] = []
    variables.forEach((variable, i) => {
      const array = paired[i] as NamedWeight
      if (array.shape.join('×') !== variable.shape.join('×')) {
        problems.push(`layer '${layer.name}' weight '${weightRole(variable.originalName)}': the file has ${shapeText(array.shape)}, the model needs ${shapeText(variable.shape)}`)
      }
      arrays.push(array)
    })
    plan.push({ layer, arrays })
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 12).join('; ')
    throw new PretrainedImportError(file, `weights do not fit the model: ${shown}${problems.length > 12 ? `; and ${problems.length - 12} more` : ''}`)
  }
  for (const { layer, arrays } of plan) {
    const tensors = arrays.map((a) => tf.tensor(a.values, a.shape))
    layer.setWeights(tensors)
    tf.dispose(tensors) // the variables hold their own reference
  }
  const used = new Set(plan.map((p) => p.layer.name))
  return [...stored.entries()].filter(([name, weights]) => weights.length > 0 && !used.has(name)).map(([name]) => name)
}
