// Lint: TypeScript rules plus the runtime boundaries from DESIGN.md, enforced rather than hoped for:
// shared imports nothing; engine never imports electron; renderer imports only shared (and UI libraries).
import tseslint from 'typescript-eslint'

const pattern = (group, message) => ({ group, message })
const noElectron = pattern(['electron', 'electron/*'], 'electron belongs in src/main and src/preload only.')
const noMain = pattern(['**/main/**', '**/main'], 'Only Electron main may import src/main.')
const noRenderer = pattern(['**/renderer/**'], 'Nothing imports the renderer.')
const noEngine = pattern(['**/engine/**', '**/engine'], 'The renderer and shared code talk to the engine through the contract only.')
const noNode = pattern(['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'url', 'util'], 'No Node built-ins here.')
const noTf = pattern(['@tensorflow/*'], 'tfjs belongs in src/engine.')

const restrict = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'workbench-runs/**', 'test-results/**', '.scratch/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  restrict(['src/shared/**/*.ts'], [noElectron, noMain, noRenderer, noEngine, noNode, noTf, pattern(['vue', 'pinia', 'chart.js'], 'shared imports nothing.')]),
  restrict(['src/engine/**/*.ts'], [noElectron, noMain, noRenderer]),
  restrict(['src/cli/**/*.ts'], [noElectron, noMain, noRenderer]),
  restrict(['src/renderer/**/*.ts'], [noElectron, noMain, noEngine, noNode, noTf]),
  restrict(['src/preload/**/*.ts'], [noMain, noRenderer, noEngine, noTf])
)
