import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { discoverDatasets } from '../../engine/data/load-dataset'

/** Where datasets live unless told otherwise: $WORKBENCH_DATA_DIR, else ~/.transfer-workbench/datasets. */
export function defaultDataDir(): string {
  return process.env['WORKBENCH_DATA_DIR'] ?? join(homedir(), '.transfer-workbench', 'datasets')
}

/** `cli datasets [--dir DIR …] [--json]`: the built-in demo plus datasets found in the data folders. */
export async function runDatasetsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { dir: { type: 'string', multiple: true }, json: { type: 'boolean' } } })
  const datasets = await discoverDatasets([defaultDataDir(), ...(values.dir ?? [])])
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ datasets }, null, 2)}\n`)
    return 0
  }
  for (const d of datasets) process.stdout.write(`${d.id}\n  ${d.name} · ${d.classNames.length} classes: ${d.classNames.slice(0, 10).join(', ')}${d.classNames.length > 10 ? ', …' : ''}\n`)
  return 0
}
