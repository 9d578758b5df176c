import { describe, expect, it } from 'vitest'
import { expandTaskRange, isActiveState, mergeTaskStates, parseSacct, parseScontrolJobs, parseSqueue } from '../../../src/engine/slurm/scheduler-state'

// Captured from Slurm 22.05.8 (Debian 12): array 1 (tasks 0-2, throttle 2, task 1 exits 3) and array 2
// depending on it (afterok, cancelled when the dependency failed).
const SQUEUE_PENDING = `1_0|1|0|PENDING|None||0:00
1_1|1|1|PENDING|None|
2_0|2|0|PENDING|Dependency|
2_1|2|1|PENDING|Dependency|
`
const SQUEUE_ALL = `2_0|2|0|CANCELLED|DependencyNeverSatisfied|
2_1|2|1|CANCELLED|DependencyNeverSatisfied|
2_2|2|2|CANCELLED|DependencyNeverSatisfied|
1_2|1|2|COMPLETED|None|wbnode
1_0|1|0|COMPLETED|None|wbnode
1_1|1|1|FAILED|NonZeroExitCode|wbnode
77|77|N/A|RUNNING|None|wbnode
`
const SCONTROL = `JobId=1 ArrayJobId=1 ArrayTaskId=2 ArrayTaskThrottle=2 JobName=a.sh UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED NodeList=wbnode BatchHost=wbnode NumNodes=1 Command=/tmp/wbslurm.KWCO/a.sh WorkDir=/tmp/wbslurm.KWCO
JobId=4 ArrayJobId=1 ArrayTaskId=1 ArrayTaskThrottle=2 JobName=a.sh UserId=root(0) GroupId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:03 NodeList=wbnode BatchHost=wbnode
JobId=3 ArrayJobId=1 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=a.sh JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15 NodeList=wbnode
JobId=2 ArrayJobId=2 ArrayTaskId=0-2%2 ArrayTaskThrottle=2 JobName=a.sh JobState=CANCELLED Reason=DependencyNeverSatisfied Dependency=afterok:1_*(failed) ExitCode=0:0 NodeList= KillOInInvalidDependent=Yes
`
const SACCT = `9_0|COMPLETED|0:0|node3
9_1|OUT_OF_MEMORY|0:125|node4
9_[2-4%2]|PENDING|0:0|None assigned
9_5|CANCELLED by 1000|0:15|node3
`

describe('array task ranges', () => {
  it('expands every form Slurm prints', () => {
    expect(expandTaskRange('7')).toEqual([7])
    expect(expandTaskRange('0-3%2')).toEqual([0, 1, 2, 3])
    expect(expandTaskRange('[2-4%2]')).toEqual([2, 3, 4])
    expect(expandTaskRange('1-7:3')).toEqual([1, 4, 7])
    expect(expandTaskRange('[1,3-4]')).toEqual([1, 3, 4])
  })
})

describe('parsing captured Slurm output', () => {
  it('squeue: one task a line, array jobs only', () => {
    const tasks = parseSqueue(SQUEUE_ALL)
    expect(tasks).toHaveLength(6)
    expect(tasks.find((t) => t.jobId === '1_1')).toMatchObject({ arrayJobId: '1', taskId: 1, state: 'FAILED', reason: 'NonZeroExitCode', node: 'wbnode', exitCode: null })
    expect(tasks.find((t) => t.jobId === '2_0')).toMatchObject({ state: 'CANCELLED', reason: 'DependencyNeverSatisfied', node: null })
    expect(parseSqueue(SQUEUE_PENDING).find((t) => t.jobId === '2_1')?.reason).toBe('Dependency')
  })

  it('scontrol: exit codes, signals, and the pending rest of an array as one record', () => {
    const tasks = parseScontrolJobs(SCONTROL)
    expect(tasks.find((t) => t.jobId === '1_1')).toMatchObject({ state: 'FAILED', exitCode: 3, signal: null, node: 'wbnode' })
    expect(tasks.find((t) => t.jobId === '1_0')).toMatchObject({ state: 'TIMEOUT', exitCode: 0, signal: 15 })
    expect(tasks.filter((t) => t.arrayJobId === '2').map((t) => [t.taskId, t.state])).toEqual([[0, 'CANCELLED'], [1, 'CANCELLED'], [2, 'CANCELLED']])
  })

  it('sacct: bracketed pending ranges, "CANCELLED by uid", exit codes', () => {
    const tasks = parseSacct(SACCT)
    expect(tasks.map((t) => [t.jobId, t.state])).toEqual([['9_0', 'COMPLETED'], ['9_1', 'OUT_OF_MEMORY'], ['9_2', 'PENDING'], ['9_3', 'PENDING'], ['9_4', 'PENDING'], ['9_5', 'CANCELLED']])
    expect(tasks.find((t) => t.jobId === '9_1')).toMatchObject({ exitCode: 0, signal: 125, node: 'node4' })
    expect(tasks.find((t) => t.jobId === '9_3')?.node).toBeNull()
  })

  it('merging: the live source gives the state, later sources fill the exit code', () => {
    const merged = mergeTaskStates(parseSqueue(SQUEUE_ALL), parseScontrolJobs(SCONTROL), parseSacct(SACCT))
    expect(merged.get('1_1')).toMatchObject({ state: 'FAILED', exitCode: 3, source: 'squeue' })
    // squeue says COMPLETED, scontrol (say, later) TIMEOUT: the first source's state stands and no
    // exit code from a different state is borrowed.
    expect(merged.get('1_0')).toMatchObject({ state: 'COMPLETED', exitCode: null })
    expect(merged.get('9_1')).toMatchObject({ state: 'OUT_OF_MEMORY', source: 'sacct' })
    expect(merged.size).toBe(6 + 6)
  })

  it('active states are the ones a run must not be resubmitted from', () => {
    expect(['PENDING', 'RUNNING', 'COMPLETING', 'REQUEUED', 'SUSPENDED'].every(isActiveState)).toBe(true)
    expect(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'OUT_OF_MEMORY'].some(isActiveState)).toBe(false)
  })
})
