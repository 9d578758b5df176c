/**
 * The environment variable that forces a backend (tensorflow, webgpu, wasm, cpu). Its own module, so the
 * CLI can set it before a trainer process starts without loading tfjs itself.
 */
export const BACKEND_ENV = 'WORKBENCH_BACKEND'
