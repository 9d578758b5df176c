import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PROJECT_SCHEMA_VERSION, type ProjectManifest, type RunRecord } from '../../shared/project'
import { writeJsonAtomic } from './atomic-files'

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

/** Creates a new project folder with an empty manifest; refuses to touch an existing project. */
export async function createProject(dir: string, name: string): Promise<ProjectManifest> {
  const file = join(dir, PROJECT_FILE)
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
  return manifest as ProjectManifest
}

/** Writes `project.json` atomically. */
export async function writeProject(dir: string, manifest: ProjectManifest): Promise<void> {
  await writeJsonAtomic(join(dir, PROJECT_FILE), manifest)
}

/** Opens a project, creating it when the folder holds none yet. */
export async function openOrCreateProject(dir: string, name: string): Promise<ProjectManifest> {
  return existsSync(join(dir, PROJECT_FILE)) ? readProject(dir) : createProject(dir, name)
}

/** Reads one run's record. */
export async function readRun(projectDir: string, runId: string): Promise<RunRecord> {
  const file = join(runDir(projectDir, runId), RUN_FILE)
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunRecord
  } catch (error) {
    throw new ProjectError(file, `cannot read run record: ${(error as Error).message}`)
  }
}

/** Writes one run's record atomically (only the run's own folder is touched). */
export async function writeRun(projectDir: string, record: RunRecord): Promise<void> {
  await writeJsonAtomic(join(runDir(projectDir, record.id), RUN_FILE), record)
}

/** Every run of the project, from the run folders (so concurrent writers never fight over an index). */
export async function listRuns(projectDir: string): Promise<RunRecord[]> {
  const root = join(resolve(projectDir), RUNS_DIR)
  if (!existsSync(root)) return []
  const entries = await readdir(root, { withFileTypes: true })
  const runs: RunRecord[] = []
  for (const entry of entries) {
    if (!entry.isDirectory() || !existsSync(join(root, entry.name, RUN_FILE))) continue
    runs.push(await readRun(projectDir, entry.name))
  }
  return runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
}
