import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { FeaturePooling, FeatureProgress, FeatureStudyResult, TemperatureMode } from '../../shared/features'
import { featureCacheRoot, listFeatureCaches } from '../../engine/features/feature-cache'
import { parsePreprocessing } from '../../shared/features'
import { runFeatureStudy, type FeatureStudyOptions } from '../../engine/features/study'
import { importPretrained } from '../../engine/models/pretrained-import'
import { listFlag, numberFlag, UsageError } from '../args'

export const FEATURES_USAGE = `usage: cli features --project DIR --source <runId|model.json|file.h5> --layer NAME --dataset ID [--classes c1,c2,…]
  [--shots 2,4,8,16] [--test-per-class N|all] [--draws 3] [--pool-per-class N] [--pooling avg|max|flatten]
  [--probe-layers a,b,c] [--probe-k N|all] [--temperatures 1,2,4,8,16] [--temperature-mode head|soft-features|distill]
  [--teacher <runId|path>] [--alpha 0.9] [--preprocessing caffe|tf|torch|unit] [--input-size N]
  [--epochs 100] [--lr 0.01] [--batch-size 256] [--seed 0] [--no-timing] [--json]
       cli features caches --project DIR [--json]
       cli features inspect --model <model.json|file.h5> [--input-size N] [--json]`

const POOLINGS: readonly FeaturePooling[] = ['avg', 'max', 'flatten']
const MODES: readonly TemperatureMode[] = ['head', 'soft-features', 'distill']

/** Seed 003 calls convs "conv 3-1"; the workbench calls them block3_conv1. Other names pass through. */
export function layerFromLabel(label: string): string {
  const match = /^(?:conv\s*)?(\d+)\s*-\s*(\d+)$/i.exec(label.trim())
  return match ? `block${match[1]}_conv${match[2]}` : label.trim()
}

function numberList(name: string, value: string | undefined): number[] | undefined {
  return listFlag(value)?.map((v) => numberFlag(name, v) as number)
}

/** Parses the study flags into engine options, validating every value. */
export function parseFeaturesArgs(argv: string[]): { options: FeatureStudyOptions; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      project: { type: 'string' },
      source: { type: 'string' },
      layer: { type: 'string' },
      dataset: { type: 'string' },
      classes: { type: 'string' },
      shots: { type: 'string' },
      'test-per-class': { type: 'string' },
      draws: { type: 'string' },
      'pool-per-class': { type: 'string' },
      pooling: { type: 'string' },
      'probe-layers': { type: 'string' },
      'probe-k': { type: 'string' },
      temperatures: { type: 'string' },
      'temperature-mode': { type: 'string' },
      teacher: { type: 'string' },
      alpha: { type: 'string' },
      preprocessing: { type: 'string' },
      'input-size': { type: 'string' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      'no-timing': { type: 'boolean' },
      json: { type: 'boolean' }
    }
  })
  for (const required of ['project', 'source', 'layer', 'dataset'] as const) if (!values[required]) throw new UsageError(`--${required} is required`)
  const pooling = (values.pooling ?? 'avg') as FeaturePooling
  if (!POOLINGS.includes(pooling)) throw new UsageError(`--pooling: '${pooling}' is not one of ${POOLINGS.join(', ')}`)
  const mode = values['temperature-mode'] as TemperatureMode | undefined
  if (mode !== undefined && !MODES.includes(mode)) throw new UsageError(`--temperature-mode: '${mode}' is not one of ${MODES.join(', ')}`)
  let preprocessing
  try {
    preprocessing = values.preprocessing ? parsePreprocessing(values.preprocessing) : undefined
  } catch (error) {
    throw new UsageError(`--preprocessing: ${(error as Error).message}`)
  }
  const probeK = values['probe-k'] === 'all' ? null : numberFlag('probe-k', values['probe-k'])
  // 'all' (the default) evaluates on every test image of the chosen classes.
  const testPerClass = values['test-per-class'] === 'all' ? undefined : numberFlag('test-per-class', values['test-per-class'])
  if (testPerClass !== undefined && (!Number.isInteger(testPerClass) || testPerClass < 1)) throw new UsageError(`--test-per-class: '${values['test-per-class']}' is not a positive whole number or 'all'`)
  const source = values.source as string
  const options: FeatureStudyOptions = {
    projectDir: resolve(values.project as string),
    source,
    layer: layerFromLabel(values.layer as string),
    dataset: values.dataset as string,
    classes: listFlag(values.classes),
    shots: numberList('shots', values.shots),
    testPerClass,
    draws: numberFlag('draws', values.draws),
    poolPerClass: numberFlag('pool-per-class', values['pool-per-class']),
    pooling,
    probeLayers: listFlag(values['probe-layers'])?.map(layerFromLabel),
    probeK,
    temperatures: numberList('temperatures', values.temperatures),
    temperatureMode: mode,
    teacher: values.teacher,
    distillAlpha: numberFlag('alpha', values.alpha),
    preprocessing,
    inputSize: numberFlag('input-size', values['input-size']),
    timeFullPass: !values['no-timing'],
    seed: numberFlag('seed', values.seed),
    head: Object.fromEntries(
      Object.entries({ epochs: numberFlag('epochs', values.epochs), lr: numberFlag('lr', values.lr), batchSize: numberFlag('batch-size', values['batch-size']) }).filter(([, v]) => v !== undefined)
    )
  }
  // Undefined options fall back to the engine's defaults.
  for (const key of Object.keys(options) as (keyof FeatureStudyOptions)[]) if (options[key] === undefined) delete options[key]
  return { options, json: values.json ?? false }
}

/** A one-line progress report on stderr, rewritten in place on a terminal. */
function progressLine(): (p: FeatureProgress) => void {
  let last = 0
  return (p) => {
    const now = Date.now()
    if (process.stderr.isTTY && now - last < 100 && p.done < p.total) return
    last = now
    const line = `${p.message} ${p.done}/${p.total}`
    process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`)
  }
}

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`
/** "41.2% ± 1.3% (95% CI 38.1–44.3%, n=1000)": std over draws, Wilson interval and test-set size. */
const accText = (acc: number, std: number, ci: [number, number], n: number): string => `${pct(acc)} ± ${pct(std)}  (95% CI ${(100 * ci[0]).toFixed(1)}–${pct(ci[1])}, n=${n})`

function printSummary(r: FeatureStudyResult): void {
  const out: string[] = [
    `${r.source} · ${r.layer} (${r.pooling}) · ${r.dataset} [${r.classNames.join(', ')}] · ${r.backend}`,
    `cache: ${r.cacheMisses} built in ${r.cacheSeconds.toFixed(2)} s, ${r.cacheHits} reused`,
    r.speedup !== null && r.headEpochSeconds !== null && r.fullEpochSeconds !== null
      ? `epoch over ${r.timedImages} images: cached head ${(1000 * r.headEpochSeconds).toFixed(2)} ms, full forward pass ${(1000 * r.fullEpochSeconds).toFixed(1)} ms → ${r.speedup.toFixed(0)}× faster`
      : 'timing skipped (--no-timing)',
    `test set: ${r.testImages} images (${r.testPerClass === null ? 'every test image of the classes' : `${r.testPerClass} per class`})`,
    'few-shot (test accuracy, mean ± std over draws, Wilson 95% interval on the test set):',
    ...r.shots.map((s) => `  k=${String(s.k).padStart(3)}  ${accText(s.meanAcc, s.stdAcc, s.ci95, s.testImages)}`)
  ]
  if (r.probes.length > 0) out.push('layer probes:', ...r.probes.map((p) => `  ${p.layer.padEnd(14)} ${String(p.dims).padStart(6)} dims  ${accText(p.acc, p.stdAcc, p.ci95, p.testImages)}`))
  if (r.temperatures.length > 0) out.push(`temperature (${r.temperatureMode}):`, ...r.temperatures.map((t) => `  T=${String(t.T).padStart(3)}  ${accText(t.acc, t.stdAcc, t.ci95, t.testImages)}`))
  for (const warning of r.warnings) out.push(`warning: ${warning}`)
  for (const note of r.notes) out.push(`note: ${note}`)
  process.stdout.write(`${out.join('\n')}\n`)
}

async function runCachesCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { project: { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.project) throw new UsageError('--project is required')
  const caches = await listFeatureCaches(featureCacheRoot(resolve(values.project)))
  if (values.json) process.stdout.write(`${JSON.stringify({ caches }, null, 2)}\n`)
  else for (const c of caches) process.stdout.write(`${c.id}  ${c.source} ${c.layer}/${c.pooling} ${c.split} ${c.rows}×${c.dims} (${(c.bytes / 1e6).toFixed(1)} MB)\n`)
  return 0
}

async function runInspectCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { model: { type: 'string' }, 'input-size': { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.model) throw new UsageError('--model is required')
  const { selectBackend } = await import('../../engine/backend/select-backend')
  await selectBackend()
  const imported = await importPretrained(values.model, { inputSize: numberFlag('input-size', values['input-size']) })
  const { model, ...summary } = imported
  const info = { ...summary, parameters: model.countParams() }
  model.dispose()
  if (values.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
  else process.stdout.write(`${info.format} ${info.architecture ?? '(unrecognized architecture)'} · input ${info.inputSize}×${info.inputSize} · ${info.preprocessing.name} preprocessing · ${info.parameters} parameters\nlayers: ${info.layerNames.join(', ')}\n${info.notes.map((n) => `note: ${n}\n`).join('')}`)
  return 0
}

/**
 * `cli features`: a frozen-feature study (seed 003) on a project run or a pretrained model file:
 * cached features, few-shot curve, layer probes, temperature sweep and the cached-vs-full speed-up.
 * With --json prints the whole FeatureStudyResult (curves included) for charts.
 */
export async function runFeaturesCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'caches') return runCachesCommand(argv.slice(1))
  if (argv[0] === 'inspect') return runInspectCommand(argv.slice(1))
  const { options, json } = parseFeaturesArgs(argv)
  const result = await runFeatureStudy({ ...options, onProgress: progressLine() })
  if (process.stderr.isTTY) process.stderr.write('\n')
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else printSummary(result)
  return 0
}
