// Starts a worker thread on a TypeScript entry: Node 20 applies no `--import tsx` to a worker's own
// loading, so this registers tsx's loader in the worker first. Built apps start the .js entry directly.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.tsEntry)
