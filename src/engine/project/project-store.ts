import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { controlCharacterProblem, escapeControlCharacters } from '../../shared/plain-text'
import { PROJECT_SCHEMA_VERSION, type ProjectManifest, type RunRecord } from '../../shared/project'
import { writeJsonAtomic } from './atomic-files'
import { unreadableRun } from './run-record'
import { checkProjectFolder } from './project-folder'

export const PROJECT_FILE = 'project.json'
export const RUNS_DIR = 'runs'
export const RUN_FILE = 'run.json'
export const METRICS_FILE = 'metrics.jsonl'

/** A project folder problem: names the file and what is wrong. Nothing is written when it is thrown. */
export class ProjectError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`)
    this.name = 'ProjectError'
  }
}

/** The folder of one run. */
export function runDir(projectDir: string, runId: string): string {
  return join(resolve(projectDir), RUNS_DIR, runId)
}

/**
 * The names in a manifest that must be one line of plain text (they reach comment lines of generated
 * Slurm scripts, logs and terminals), as `[field, value]` pairs: `name`, `experiments[0].groups.A[2]` ….
 */
function manifestNames(manifest: Partial<ProjectManifest>): [string, unknown][] {
  const out: [string, unknown][] = [['name', manifest.name]]
  ;(Array.isArray(manifest.datasets) ? manifest.datasets : []).forEach((d, i) => out.push([`datasets[${i}]`, d]))
  ;(Array.isArray(manifest.experiments) ? manifest.experiments : []).forEach((e, i) => {
    if (typeof e !== 'object' || e === null) return
    const at = `experiments[${i}]`
    out.push([`${at}.id`, e.id], [`${at}.name`, e.name], [`${at}.dataset`, e.dataset])
    for (const [group, classes] of Object.entries(typeof e.groups === 'object' && e.groups !== null ? e.groups : {})) {
      out.push([`${at}.groups key "${escapeControlCharacters(group)}"`, group])
      ;(Array.isArray(classes) ? classes : []).forEach((c, j) => out.push([`${at}.groups.${escapeControlCharacters(group)}[${j}]`, c]))
    }
  })
  return out
}

/** The first name of a manifest that holds a control character: `field "value" holds a line break …`. */
function namesProblem(manifest: Partial<ProjectManifest>): string | undefined {
  for (const [field, value] of manifestNames(manifest)) {
    const problem = typeof value === 'string' ? controlCharacterProblem(value) : undefined
    if (problem) return `${field} "${escapeControlCharacters(value as string)}" ${problem}`
  }
  return undefined
}

/**
 * Creates a new project folder with an empty manifest; refuses to touch an existing project, a
 * folder that cannot hold one (see checkProjectFolder) and a name that is not one line of plain text.
 */
export async function createProject(dir: string, name: string): Promise<ProjectManifest> {
  const file = join(dir, PROJECT_FILE)
  const nameProblem = controlCharacterProblem(name)
  if (nameProblem) throw new ProjectError(file, `project name "${escapeControlCharacters(name)}" ${nameProblem}; nothing was written`)
  await checkProjectFolder(dir)
  if (existsSync(file)) throw new ProjectError(file, 'a project already exists here')
  const manifest: ProjectManifest = { schemaVersion: PROJECT_SCHEMA_VERSION, name, createdAt: new Date().toISOString(), datasets: [], experiments: [] }
  await writeJsonAtomic(file, manifest)
  return manifest
}

/**
 * Reads and checks `project.json`. A file that does not parse, lacks fields, or comes from a newer
 * version of the workbench is an error naming the file: the caller must not overwrite it.
 */
export async function readProject(dir: string): Promise<ProjectManifest> {
  const file = join(dir, PROJECT_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ProjectError(file, 'no project here (project.json is missing)')
    throw error
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new ProjectError(file, `not valid JSON (${(error as Error).message}); fix or restore it — it was left as it is`)
  }
  const manifest = data as Partial<ProjectManifest>
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.schemaVersion !== 'number') {
    throw new ProjectError(file, 'schemaVersion is missing: this is not a workbench project file')
  }
  if (manifest.schemaVersion > PROJECT_SCHEMA_VERSION) {
    throw new ProjectError(file, `schema version ${manifest.schemaVersion} is newer than this workbench reads (${PROJECT_SCHEMA_VERSION}); update the app — the file was left as it is`)
  }
  if (typeof manifest.name !== 'string' || !Array.isArray(manifest.experiments) || !Array.isArray(manifest.datasets)) {
    throw new ProjectError(file, 'name, datasets or experiments is missing or of the wrong type')
  }
  const names = namesProblem(manifest)
  if (names) throw new ProjectError(file, `${names}; fix it in project.json — the file was left as it is`)
  return manifest as ProjectManifest
}

/**
 * Writes `project.json` atomically. A name with a control character (from a CLI flag, say) is refused
 * here too, naming the field, so no writer leaves a manifest that readProject would refuse.
 */
export async function writeProject(dir: string, manifest: ProjectManifest): Promise<void> {
  const names = namesProblem(manifest)
  if (names) throw new ProjectError(join(dir, PROJECT_FILE), `${names}; nothing was written`)
  await writeJsonAtomic(join(dir, PROJECT_FILE), manifest)
}

/** Opens a project, creating it when the folder holds none yet. */
export async function openOrCreateProject(dir: string, name: string): Promise<ProjectManifest> {
  return existsSync(join(dir, PROJECT_FILE)) ? readProject(dir) : createProject(dir, name)
}

const RUN_KINDS = new Set(['base', 'transfer'])
const RUN_STATUSES = new Set(['planned', 'running', 'done', 'cancelled', 'failed', 'interrupted'])

/** What is wrong with a parsed run.json, or undefined when it has what lists, reports and resumes rely on. */
function runRecordProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not a run record (expected a JSON object)'
  const run = data as Record<string, unknown>
  if (typeof run.id !== 'string' || run.id === '') return 'not a run record: id is missing'
  if (!RUN_KINDS.has(run.kind as string)) return `not a run record: kind is ${JSON.stringify(run.kind) ?? 'missing'}, not base or transfer`
  if (!RUN_STATUSES.has(run.status as string)) return `not a run record: status is ${JSON.stringify(run.status) ?? 'missing'}`
  if (typeof run.config !== 'object' || run.config === null) return 'not a run record: config is missing'
  if (typeof run.to !== 'string' || typeof run.createdAt !== 'string') return 'not a run record: to or createdAt is missing'
  return undefined
}

/**
 * Reads one run's record.
 * @throws ProjectError naming the file when it is missing, not JSON or not a run record
 */
export async function readRun(projectDir: string, runId: string): Promise<RunRecord> {
  const file = join(runDir(projectDir, runId), RUN_FILE)
  let data: unknown
  try {
    data = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new ProjectError(file, `cannot read run record: ${(error as Error).message}`)
  }
  const problem = runRecordProblem(data)
  if (problem) throw new ProjectError(file, problem)
  return data as RunRecord
}

/** Writes one run's record atomically (only the run's own folder is touched). */
export async function writeRun(projectDir: string, record: RunRecord): Promise<void> {
  await writeJsonAtomic(join(runDir(projectDir, record.id), RUN_FILE), record)
}

/**
 * Every run of the project, from the run folders (so concurrent writers never fight over an index).
 * A run whose run.json cannot be read is listed as `unreadable` with the reason (see unreadableRun),
 * so one damaged file never hides the rest of the project.
 */
export async function listRuns(projectDir: string): Promise<RunRecord[]> {
  const root = join(resolve(projectDir), RUNS_DIR)
  if (!existsSync(root)) return []
  const entries = await readdir(root, { withFileTypes: true })
  const runs: RunRecord[] = []
  for (const entry of entries) {
    const file = join(root, entry.name, RUN_FILE)
    if (!entry.isDirectory() || !existsSync(file)) continue
    try {
      runs.push(await readRun(projectDir, entry.name))
    } catch (error) {
      const since = await stat(file).then((s) => s.mtime, () => new Date(0))
      runs.push(unreadableRun(entry.name, (error as Error).message, since))
    }
  }
  return runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
}
