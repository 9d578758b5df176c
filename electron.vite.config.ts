import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

// tfjs-node-gpu is an optional native package: never bundle it, load it at run time if present.
const nativeOptional = ['@tensorflow/tfjs-node-gpu']

export default defineConfig({
  main: {
    build: {
      rollupOptions: { external: nativeOptional }
    }
  },
  preload: {
    build: {
      // The sandboxed preload must be CommonJS.
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } }
    }
  },
  renderer: {
    root: resolve('src/renderer'),
    build: {
      rollupOptions: { input: resolve('src/renderer/index.html') }
    },
    plugins: [vue()]
  }
})
