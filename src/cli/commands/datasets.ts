import { parseArgs } from 'node:util'
import { discoverDatasets } from '../../engine/data/load-dataset'
import { resolveDataDir } from '../../engine/datasets-library/data-dir'
import { libraryLocations } from '../../engine/datasets-library/library-listing'

/**
 * `cli datasets [--dir DIR …] [--data-dir DIR] [--json]`: the datasets training can use — the built-in
 * demo, the library's (see `dataset list`) and any found in the given folders.
 */
export async function runDatasetsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { dir: { type: 'string', multiple: true }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } }
  })
  const library = await libraryLocations(resolveDataDir(values['data-dir']))
  const datasets = await discoverDatasets([...(values.dir ?? []), ...library])
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ datasets }, null, 2)}\n`)
    return 0
  }
  for (const d of datasets) process.stdout.write(`${d.id}\n  ${d.name} · ${d.classNames.length} classes: ${d.classNames.slice(0, 10).join(', ')}${d.classNames.length > 10 ? ', …' : ''}\n`)
  return 0
}
