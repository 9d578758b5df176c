// Lint: TypeScript rules plus the runtime boundaries from DESIGN.md, enforced rather than hoped for:
// shared imports nothing; engine never imports electron; renderer imports only shared (and UI libraries).
// The renderer's .vue single-file components are linted too (eslint-plugin-vue, vue-eslint-parser with
// typescript-eslint's parser for <script lang="ts">), so the renderer boundary reaches them as well.
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'
import vueParser from 'vue-eslint-parser'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'

const pattern = (group, message) => ({ group, message })
const noElectron = pattern(['electron', 'electron/*'], 'electron belongs in src/main and src/preload only.')
const noMain = pattern(['**/main/**', '**/main'], 'Only Electron main may import src/main.')
const noRenderer = pattern(['**/renderer/**'], 'Nothing imports the renderer.')
const noEngine = pattern(['**/engine/**', '**/engine'], 'The renderer and shared code talk to the engine through the contract only.')
const noNode = pattern(['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'url', 'util'], 'No Node built-ins here.')
const noTf = pattern(['@tensorflow/*'], 'tfjs belongs in src/engine.')

// Inside the engine imports run downhill: the foundations (backend, models, data) never reach up into the
// layers built on them. A relative specifier climbing into one of those folders is refused; the shared
// folder's own files (e.g. shared/features.ts) do not match, since `shared/` comes between.
const noUpperEngine = {
  regex: '^(\\.\\./)+(train|viz|features|api|process|slurm|datasets-library)(/|$)',
  message: 'Engine layers run downhill: backend, models and data never import train, viz, features, api, process, slurm or the dataset library.'
}

const restrict = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'workbench-runs/**', 'test-results/**', '.scratch/**'] },
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    // <template> via vue-eslint-parser, <script lang="ts"> via typescript-eslint's parser.
    files: ['**/*.vue'],
    languageOptions: {
      parser: vueParser,
      parserOptions: { parser: tseslint.parser, sourceType: 'module', extraFileExtensions: ['.vue'] }
    },
    rules: {
      // Formatting-only rules turned off: there is no prettier here, and these would rewrap nearly every
      // template line (1,221 and 460 hits) for no change in behaviour. The codebase writes one tag per line
      // with all its attributes, and short content such as <button>Run</button> inline.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      // Kept, but set to the codebase's convention: void elements are written self-closed (<input />, <img />)
      // everywhere, rather than the preset's <input>.
      'vue/html-self-closing': ['warn', { html: { void: 'always', normal: 'always', component: 'always' }, svg: 'always', math: 'always' }]
    }
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  restrict(['src/shared/**/*.ts'], [noElectron, noMain, noRenderer, noEngine, noNode, noTf, pattern(['vue', 'pinia', 'chart.js'], 'shared imports nothing.')]),
  restrict(['src/engine/**/*.ts'], [noElectron, noMain, noRenderer]),
  // Listed again in full: a later no-restricted-imports entry replaces the earlier one for these files.
  restrict(['src/engine/backend/**/*.ts', 'src/engine/models/**/*.ts', 'src/engine/data/**/*.ts'], [noElectron, noMain, noRenderer, noUpperEngine]),
  {
    // No import cycles anywhere in the source: a cycle makes load order (and so module state) depend on
    // which file was imported first.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // no-cycle parses the files it follows: TypeScript with typescript-eslint's parser.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })]
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] }
  },
  restrict(['src/cli/**/*.ts'], [noElectron, noMain, noRenderer]),
  restrict(['src/renderer/**/*.ts', 'src/renderer/**/*.vue'], [noElectron, noMain, noEngine, noNode, noTf]),
  restrict(['src/preload/**/*.ts'], [noMain, noRenderer, noEngine, noTf]),
  // Tensor reads are asynchronous wherever a GPU backend may run (DESIGN.md, "The tfjs backend"): on webgpu
  // dataSync()/arraySync() block the thread and throw or return wrong numbers; `await t.data()` works everywhere.
  {
    files: ['src/engine/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'MemberExpression[property.name=/^(dataSync|arraySync)$/]', message: 'reads block and fail on webgpu: use await t.data()' }]
    }
  },
  {
    // Exceptions: code that only ever runs on the CPU backends (wasm/cpu), inside kernels and per-batch
    // exchanges that must read synchronously: the wasm batch-norm gradient kernel, and data-parallel
    // training (its workers and synced batch norm), which runs only on wasm/cpu.
    files: ['src/engine/backend/batch-norm-gradient.ts', 'src/engine/models/synced-batch-norm.ts', 'src/engine/train/parallel/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' }
  }
)
