import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { selectBackend } from '../../engine/backend/select-backend'
import { filterGridTitle, renderFilterPng } from '../../engine/viz/filters'
import { VizService } from '../../engine/viz/viz-service'
import type { FilterMode, VizImageSource, VizProgress, VizRunRef } from '../../shared/viz'
import { listFlag, numberFlag, UsageError } from '../args'

export const VIZ_USAGE = `usage: cli viz <what> --project DIR --run RUNID [--checkpoint best|last] [--out FILE.png] [--json]
  what: layers
        filters     --layer NAME [--mode rgb|mean|channels] [--max-filters N] [--input-channels N] [--scale N]
                    [--since-init]   (trained − initial kernels: what training added to the random start)
        histograms  [--layer NAME,…] [--bins 50]
        activations --layer NAME (--image FILE | --val-index I) [--maps 6|all] [--channels 0,5,…] [--per-map]
        top-images  --layer NAME --channel C [--k 9] [--split val|test] [--score max|mean]
        compare     [--base RUNID] [--layer NAME]   (base: the run's source run)
        predict     (--image FILE | --val-index I) [--top 5] [--temperature 1]
        confusion   [--split val|test] [--cell TRUE,PREDICTED [--limit 32]]
  layer names: Keras (block1_conv1, fc1) or seed 003's labels ("conv 1-1")`

const OPTIONS = {
  project: { type: 'string' },
  run: { type: 'string' },
  base: { type: 'string' },
  checkpoint: { type: 'string' },
  layer: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  mode: { type: 'string' },
  'max-filters': { type: 'string' },
  'input-channels': { type: 'string' },
  scale: { type: 'string' },
  'since-init': { type: 'boolean' },
  bins: { type: 'string' },
  image: { type: 'string' },
  'val-index': { type: 'string' },
  maps: { type: 'string' },
  channels: { type: 'string' },
  'per-map': { type: 'boolean' },
  channel: { type: 'string' },
  k: { type: 'string' },
  split: { type: 'string' },
  score: { type: 'string' },
  top: { type: 'string' },
  temperature: { type: 'string' },
  cell: { type: 'string' },
  limit: { type: 'string' }
} as const

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values']

/** What a subcommand produces: data for --json, a PNG for --out, a line for the terminal. */
interface VizOutput {
  data: unknown
  renderPng?: () => Promise<Buffer>
  summary: string
}

/**
 * `cli viz <what>`: filters, weight histograms, activation maps, top images, base-vs-transferred
 * comparisons, predictions and confusion matrices of a project's runs, as PNG (--out, full
 * resolution) and as data (--json on stdout). The same VizService serves the app's views.
 */
export async function runVizCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv
  const handler = what ? HANDLERS[what] : undefined
  if (!handler) throw new UsageError(what ? `unknown viz '${what}'` : 'say what to show')
  const { values } = parseArgs({ args: rest, strict: true, options: OPTIONS })
  if (!values.project) throw new UsageError('--project is required')
  if (!values.run) throw new UsageError('--run is required')
  const checkpoint = values.checkpoint ?? 'best'
  if (checkpoint !== 'best' && checkpoint !== 'last') throw new UsageError(`--checkpoint: '${checkpoint}' is not best or last`)
  await selectBackend()
  const ref: VizRunRef = { projectDir: resolve(values.project), runId: values.run, checkpoint }
  const service = new VizService()
  try {
    const output = await handler(values, ref, service)
    if (values.out) {
      if (!output.renderPng) throw new UsageError(`viz ${what} draws no picture${what === 'compare' ? ' without --layer' : ''}; drop --out`)
      const out = resolve(values.out)
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, await output.renderPng())
      process.stderr.write(`wrote ${out}\n`)
    }
    if (values.json) process.stdout.write(`${JSON.stringify(output.data)}\n`)
    else process.stdout.write(`${output.summary}\n`)
    return 0
  } finally {
    service.dispose()
  }
}

const progress = { onProgress: progressLine }

const HANDLERS: Record<string, (flags: Flags, ref: VizRunRef, service: VizService) => Promise<VizOutput>> = {
  layers: async (_flags, ref, service) => {
    const layers = await service.layers(ref)
    return { data: layers, summary: layers.map((l) => `${String(l.index).padStart(2)} ${l.name.padEnd(14)} ${l.label.padEnd(12)} ${l.kind} ${l.channels}${l.trainable ? '' : ' (frozen)'}`).join('\n') }
  },

  filters: async (flags, ref, service) => {
    const result = await service.filters({
      ...ref,
      layer: required(flags.layer, 'layer'),
      mode: flags.mode as FilterMode | undefined,
      maxFilters: numberFlag('max-filters', flags['max-filters']),
      maxInputChannels: numberFlag('input-channels', flags['input-channels']),
      ...(flags['since-init'] ? { relativeTo: 'init' as const } : {})
    })
    const grid = result.data
    const scale = numberFlag('scale', flags.scale)
    const title = filterGridTitle(ref.runId, grid, flags['since-init'] ? 'init' : undefined)
    return { data: grid, renderPng: scale ? () => renderFilterPng(grid, title, { scale }) : result.renderPng, summary: title }
  },

  histograms: async (flags, ref, service) => {
    const result = await service.histograms({ ...ref, layers: listFlag(flags.layer), bins: numberFlag('bins', flags.bins) })
    const summary = result.data.map((h) => `${h.label.padEnd(12)} mean ${h.mean.toExponential(2)} std ${h.std.toExponential(2)} [${h.min.toFixed(3)}, ${h.max.toFixed(3)}]`).join('\n')
    return { ...result, summary }
  },

  activations: async (flags, ref, service) => {
    const result = await service.activations(
      {
        ...ref,
        layer: required(flags.layer, 'layer'),
        image: imageSource(flags),
        maps: flags.maps === 'all' ? 'all' : numberFlag('maps', flags.maps),
        channels: listFlag(flags.channels)?.map((c) => numberFlag('channels', c) as number),
        scaleMode: flags['per-map'] ? 'per-map' : 'shared'
      },
      progress
    )
    const { data } = result
    return { ...result, summary: `${ref.runId} · ${data.layer} (${data.label}) · ${data.maps.length} of ${data.channelCount} maps · range ${data.scale.min.toFixed(3)} … ${data.scale.max.toFixed(3)}` }
  },

  'top-images': async (flags, ref, service) => {
    const channel = numberFlag('channel', required(flags.channel, 'channel')) as number
    const score = flags.score ?? 'max'
    if (score !== 'max' && score !== 'mean') throw new UsageError(`--score: '${score}' is not max or mean`)
    const split = splitFlag(flags.split)
    const result = await service.topImages({ ...ref, layer: required(flags.layer, 'layer'), channel, k: numberFlag('k', flags.k), split, score }, progress)
    const { data } = result
    const head = `${ref.runId} · ${data.layer} (${data.label}) channel ${channel} · top ${data.images.length} of ${data.scanned} ${split} images`
    return { ...result, summary: `${head}\n${data.images.map((i) => `  ${i.rank}. ${i.score.toFixed(3)} ${i.className} ${i.source}`).join('\n')}` }
  },

  compare: async (flags, ref, service) => {
    const request = { ...ref, baseRunId: flags.base, mode: flags.mode as FilterMode | undefined }
    if (!flags.layer) {
      const summary = await service.compareSummary(request)
      const lines = summary.layers.map((l) => `${l.label.padEnd(12)} ${l.identical ? 'identical' : `changed ${l.relativeChange?.toFixed(4) ?? '(shape differs)'}`}${l.frozen ? ' · frozen' : l.transferred ? ' · copied' : ''}`)
      return { data: summary, summary: `${summary.baseRunId} → ${summary.targetRunId}\n${lines.join('\n')}` }
    }
    const result = await service.compareLayer({ ...request, layer: flags.layer })
    const { data } = result
    const changed = data.filters.filter((f) => !f.identical).length
    const state = data.identical ? 'identical' : `${changed}/${data.filters.length} filters changed, relative change ${data.relativeChange.toFixed(4)}`
    return { ...result, summary: `${data.layer} (${data.label}) · ${data.baseRunId} → ${data.targetRunId} · ${state}` }
  },

  predict: async (flags, ref, service) => {
    const result = await service.predict({ ...ref, image: imageSource(flags), top: numberFlag('top', flags.top), temperature: numberFlag('temperature', flags.temperature) }, progress)
    return { ...result, summary: result.data.top.map((t) => `${(t.probability * 100).toFixed(1).padStart(5)}% ${t.className}`).join('\n') }
  },

  confusion: async (flags, ref, service) => {
    const split = splitFlag(flags.split)
    const matrix = await service.confusion({ ...ref, split }, progress)
    if (!flags.cell) return { ...matrix, summary: `${ref.runId} · confusion matrix (${split}): accuracy ${(matrix.data.accuracy * 100).toFixed(1)}% of ${matrix.data.total}` }
    const [t, p] = (listFlag(flags.cell) ?? []).map((v) => classLabel(v, matrix.data.classNames))
    if (t === undefined || p === undefined) throw new UsageError('--cell takes TRUE,PREDICTED (class names or labels)')
    const result = await service.cellImages({ ...ref, split, trueLabel: t, predictedLabel: p, limit: numberFlag('limit', flags.limit) }, progress)
    const names = matrix.data.classNames
    const head = `${ref.runId} · ${names[t]} predicted as ${names[p]} · ${result.data.total} images`
    return { ...result, summary: `${head}\n${result.data.images.map((i) => `  ${(i.predictedProbability * 100).toFixed(1)}% ${i.source}`).join('\n')}` }
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required`)
  return value
}

function splitFlag(value: string | undefined): 'val' | 'test' {
  if (value === undefined || value === 'val' || value === 'test') return value ?? 'val'
  throw new UsageError(`--split: '${value}' is not val or test`)
}

function classLabel(value: string, classNames: string[]): number {
  const byName = classNames.indexOf(value)
  if (byName >= 0) return byName
  const n = Number(value)
  if (Number.isInteger(n) && n >= 0 && n < classNames.length) return n
  throw new UsageError(`'${value}' is not a class of this model (${classNames.join(', ')})`)
}

/** The image to feed: a file (resized as the dataset reader does), or an image of the run's validation split. */
function imageSource(flags: Flags): VizImageSource {
  if (flags.image) return { kind: 'file', path: resolve(flags.image) }
  const position = numberFlag('val-index', flags['val-index'])
  if (position === undefined) throw new UsageError('say --image FILE or --val-index I')
  return { kind: 'split', split: 'val', position }
}

function progressLine(p: VizProgress): void {
  if (!process.stderr.isTTY) return
  process.stderr.write(`\r${p.phase} ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`)
}
