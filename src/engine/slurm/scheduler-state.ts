/** What Slurm says about one array task. */
export interface TaskState {
  /** `<arrayJobId>_<taskId>`, as squeue and sacct print it. */
  jobId: string
  arrayJobId: string
  taskId: number
  /** Slurm's state word: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, PREEMPTED, NODE_FAIL … */
  state: string
  /** Why pending or why it ended (`Dependency`, `Resources`, `NonZeroExitCode`, `DependencyNeverSatisfied` …). */
  reason: string | null
  exitCode: number | null
  /** The signal that ended the task, if one did. */
  signal: number | null
  node: string | null
  source: 'squeue' | 'scontrol' | 'sacct'
}

/** States in which a task is still queued or running: its run must not be submitted again. */
export const ACTIVE_STATES: ReadonlySet<string> = new Set([
  'PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED'
])

/** Whether a state word means the task is still queued or running. */
export function isActiveState(state: string): boolean {
  return ACTIVE_STATES.has(state)
}

/** The squeue `--format` that {@link parseSqueue} reads: job, array job, task, state, reason, nodes. */
export const SQUEUE_FORMAT = '%i|%F|%K|%T|%r|%N'

/** The sacct `--format` that {@link parseSacct} reads (with `--parsable2 --noheader --allocations`). */
export const SACCT_FORMAT = 'JobID,State,ExitCode,NodeList'

/**
 * Expands an array task list as Slurm prints it: `7`, `0-5`, `0-5%2` (throttle), `1-9:2` (step),
 * `[1,3-4]` (sacct's brackets), or a comma list of these.
 */
export function expandTaskRange(spec: string): number[] {
  const out: number[] = []
  const body = spec.trim().replace(/^\[/, '').replace(/\]$/, '').replace(/%\d+$/, '')
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim())
    if (!m) continue
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]))
    for (let t = from; t <= to; t += step) out.push(t)
  }
  return out
}

function tasks(arrayJobId: string, spec: string, fields: Omit<TaskState, 'jobId' | 'arrayJobId' | 'taskId'>): TaskState[] {
  return expandTaskRange(spec).map((taskId) => ({ jobId: `${arrayJobId}_${taskId}`, arrayJobId, taskId, ...fields }))
}

const orNull = (value: string | undefined): string | null => (value === undefined || value === '' || value === '(null)' || value === 'None' || value === 'None assigned' ? null : value)

function exitCodeOf(text: string | undefined): { exitCode: number | null; signal: number | null } {
  const m = /^(\d+):(\d+)$/.exec(text ?? '')
  if (!m) return { exitCode: null, signal: null }
  return { exitCode: Number(m[1]), signal: Number(m[2]) === 0 ? null : Number(m[2]) }
}

/** Parses `squeue --noheader --array --format='%i|%F|%K|%T|%r|%N'`; jobs that are not arrays are skipped. */
export function parseSqueue(text: string): TaskState[] {
  const out: TaskState[] = []
  for (const line of text.split('\n')) {
    const [, arrayJobId, taskSpec, state, reason, node] = line.trim().split('|')
    if (!arrayJobId || !taskSpec || !state || taskSpec === 'N/A') continue
    out.push(...tasks(arrayJobId, taskSpec, { state, reason: orNull(reason), exitCode: null, signal: null, node: orNull(node), source: 'squeue' }))
  }
  return out
}

/** Parses `scontrol --oneliner show job …`: one `Key=Value …` line per job record (the pending rest of an array is one record). */
export function parseScontrolJobs(text: string): TaskState[] {
  const out: TaskState[] = []
  for (const line of text.split('\n')) {
    const fields = new Map<string, string>()
    for (const m of line.matchAll(/(?:^|\s)([A-Za-z][\w/:]*)=(\S*)/g)) if (!fields.has(m[1] as string)) fields.set(m[1] as string, m[2] as string)
    const arrayJobId = fields.get('ArrayJobId')
    const taskSpec = fields.get('ArrayTaskId')
    const state = fields.get('JobState')
    if (!arrayJobId || !taskSpec || !state) continue
    out.push(...tasks(arrayJobId, taskSpec, { state, reason: orNull(fields.get('Reason')), ...exitCodeOf(fields.get('ExitCode')), node: orNull(fields.get('NodeList')), source: 'scontrol' }))
  }
  return out
}

/** Parses `sacct --allocations --noheader --parsable2 --format=JobID,State,ExitCode,NodeList`. */
export function parseSacct(text: string): TaskState[] {
  const out: TaskState[] = []
  for (const line of text.split('\n')) {
    const [jobId, stateText, exit, node] = line.trim().split('|')
    const m = /^(\d+)_(.+)$/.exec(jobId ?? '')
    if (!m || !stateText) continue
    // "CANCELLED by 1000": the state word is the first.
    const state = stateText.split(/\s+/)[0] as string
    out.push(...tasks(m[1] as string, m[2] as string, { state, reason: null, ...exitCodeOf(exit), node: orNull(node), source: 'sacct' }))
  }
  return out
}

/**
 * Merges what the commands said, task by task: the first source that knows a task gives its state
 * (pass the live ones first: squeue, then scontrol, then sacct's history); later sources only fill
 * what it lacked, such as the exit code squeue does not print.
 */
export function mergeTaskStates(...sources: TaskState[][]): Map<string, TaskState> {
  const merged = new Map<string, TaskState>()
  for (const source of sources) {
    for (const task of source) {
      const known = merged.get(task.jobId)
      if (!known) merged.set(task.jobId, { ...task })
      else {
        known.reason ??= task.reason
        known.node ??= task.node
        if (known.exitCode === null && task.state === known.state) {
          known.exitCode = task.exitCode
          known.signal = task.signal
        }
      }
    }
  }
  return merged
}
