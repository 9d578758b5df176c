import type { VizInput, VizOutput } from '../../shared/viz-calls'
import { VIZ_PICTURE_KINDS } from '../../shared/viz-calls'
import type { VizResult, VizService } from './viz-service'

/**
 * Answers one "look inside" request for a run of `projectDir` with the given service: the data, and
 * the PNG when asked (as a data URL, which both transports carry and a browser can save).
 */
export async function runVizCall(viz: VizService, projectDir: string, input: VizInput): Promise<VizOutput> {
  const request = { ...input.request, projectDir } as never
  const plain = async (value: Promise<unknown>): Promise<VizOutput> => ({ data: (await value) as VizOutput['data'], png: null })
  switch (input.kind) {
    case 'layers':
      return plain(viz.layers(request))
    case 'splitImages':
      return plain(viz.splitImages(request))
    case 'compareSummary':
      return plain(viz.compareSummary(request))
  }
  if (!VIZ_PICTURE_KINDS.includes(input.kind)) throw new Error(`unknown viz request '${input.kind}'`)
  const method = viz[input.kind as 'filters'] as (request: never) => Promise<VizResult<unknown>>
  const result = await method.call(viz, request)
  const png = input.png ? `data:image/png;base64,${(await result.renderPng()).toString('base64')}` : null
  return { data: result.data as VizOutput['data'], png }
}
