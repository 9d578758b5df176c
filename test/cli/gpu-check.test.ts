import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GpuCheckReport } from '../../src/cli/commands/gpu-check'
import { cyclicLabels, makeTempDir, removeDir, writeCifar10Dir } from '../helpers/dataset-fixtures'
import { runCli } from '../helpers/run-cli'

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']

/** The report gpu-check printed: one JSON object on stdout, nothing else. */
function parseReport(stdout: string): GpuCheckReport {
  const report = JSON.parse(stdout) as GpuCheckReport
  expect(Object.keys(report)).toEqual(['when', 'machine', 'doctor', 'bench', 'cifar10', 'errors'])
  expect(Number.isNaN(Date.parse(report.when))).toBe(false)
  expect(report.machine).toMatchObject({ cpus: expect.any(Number), memory: expect.any(Number), platform: process.platform, node: process.version })
  return report
}

describe('cli gpu-check', () => {
  let dir: string
  beforeAll(async () => {
    dir = await makeTempDir('gpu-check')
    // A tiny CIFAR-10 folder: 4 training and 2 test images per class.
    await writeCifar10Dir(join(dir, 'cifar'), CLASSES, { 'data_batch_1.bin': cyclicLabels(40, 10), 'test_batch.bin': cyclicLabels(20, 10) })
  })
  afterAll(() => removeDir(dir))

  it('prints one JSON report: doctor, the backends side by side, and a CIFAR-10 run', async () => {
    const result = await runCli(
      [
        'gpu-check',
        '--backend', 'wasm',
        '--cifar10', join(dir, 'cifar'),
        '--epochs', '1', '--width', '0.125', '--train-per-class', '3', '--batch-size', '8',
        // tensorflow cannot start without tfjs-node-gpu (CI, this machine): listed with its reason, no crash.
        '--bench-backends', 'wasm,tensorflow', '--bench-widths', '0.125', '--bench-seconds', '0.2', '--bench-batch-size', '8'
      ],
      { env: { WORKBENCH_TRAIN_WORKERS: '1' } }
    )
    const report = parseReport(result.stdout)
    expect(report.errors).toEqual([])
    expect(result.code).toBe(0)
    expect(report.doctor).toMatchObject({ backend: 'wasm', device: 'cpu', attempts: expect.any(Array) })

    expect(report.bench).toMatchObject({ arch: 'vgg11_bn', batchSize: 8, widths: [0.125], minSeconds: 0.2, warmupSeconds: 0.2, pytorch: expect.anything() })
    const wasm = report.bench?.backends.find((b) => b.backend === 'wasm')
    expect(wasm).toMatchObject({ status: 'ok', label: expect.stringContaining('wasm'), device: 'cpu' })
    expect(wasm?.results).toHaveLength(1)
    const figures = wasm?.results[0]
    expect(figures?.trainImagesPerSecond).toBeGreaterThan(0)
    expect(figures?.inferImagesPerSecond).toBeGreaterThan(0)
    expect(figures?.trainSteps).toBeGreaterThanOrEqual(1)
    const tensorflow = report.bench?.backends.find((b) => b.backend === 'tensorflow')
    expect(['ok', 'unavailable']).toContain(tensorflow?.status)
    if (tensorflow?.status === 'unavailable') expect(tensorflow.reason).toMatch(/tfjs-node-gpu/)

    expect(report.cifar10).toMatchObject({ ran: true, status: 'done', backend: 'wasm', epochs: 1, width: 0.125, trainPerClass: 3, dataset: join(dir, 'cifar') })
    expect(report.cifar10?.bestValAcc).toBeGreaterThanOrEqual(0)
    expect(report.cifar10?.bestValAcc).toBeLessThanOrEqual(1)
    expect(report.cifar10?.testAcc).toEqual(expect.any(Number))
    expect(report.cifar10?.imagesPerSecond).toBeGreaterThan(0)
    expect(report.cifar10?.device).toMatch(/^cpu/)
    // Progress went to stderr, not into the report.
    expect(result.stderr).toContain('gpu-check: doctor')
  }, 300_000)

  it('without CIFAR-10 still reports the rest, and says how to get it', async () => {
    const result = await runCli(['gpu-check', '--backend', 'wasm', '--skip-bench', '--data-dir', join(dir, 'empty-data')])
    const report = parseReport(result.stdout)
    expect(result.code).toBe(1)
    expect(report.doctor?.backend).toBe('wasm')
    expect(report.bench).toBeNull()
    expect(report.cifar10).toMatchObject({ ran: false, epochs: 2, width: 1, trainPerClass: null })
    expect(report.cifar10?.reason).toContain('npm run cli -- dataset download cifar10')
    expect(report.errors).toEqual([{ part: 'cifar10', message: report.cifar10?.reason }])
  }, 120_000)

  it('does not start an hour-long width-1 run on a CPU backend unless asked to', async () => {
    const result = await runCli(['gpu-check', '--backend', 'wasm', '--skip-bench', '--cifar10', join(dir, 'cifar')])
    const report = parseReport(result.stdout)
    expect(result.code).toBe(1)
    expect(report.cifar10).toMatchObject({ ran: false, dataset: join(dir, 'cifar'), width: 1 })
    expect(report.cifar10?.reason).toMatch(/runs on the CPU .*--cifar-on-cpu/)
    expect(report.errors.map((e) => e.part)).toEqual(['cifar10'])
  }, 120_000)
})
