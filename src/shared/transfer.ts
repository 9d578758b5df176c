/**
 * Transfer variants after Yosinski et al. (2014). A and B are generic: for a study of target group Y
 * with source X, AnB copies from the base trained on X, the control BnB from the base trained on Y.
 * "+" means every layer is fine-tuned; without it the copied layers are frozen.
 */
export const TRANSFER_VARIANTS = ['AnB', 'BnB', 'AnB+', 'BnB+'] as const
export type TransferVariant = (typeof TRANSFER_VARIANTS)[number]

/** Whether a variant keeps its copied layers frozen. */
export function isFrozenVariant(variant: TransferVariant): boolean {
  return !variant.endsWith('+')
}

/** Whether a variant copies from the target group's own base (the BnB controls). */
export function copiesFromTarget(variant: TransferVariant): boolean {
  return variant.startsWith('B')
}
