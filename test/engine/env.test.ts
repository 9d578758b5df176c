import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ENV, ENV_DEFAULTS } from '../../src/engine/env'

// The README's table of environment variables and src/engine/env.ts list the same variables and defaults,
// and no engine or CLI file reads a WORKBENCH_* variable that env.ts does not name.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('environment variables', () => {
  it('are all in the README table with their defaults', () => {
    const rows = new Map([...readme.matchAll(/^\| `(WORKBENCH_[A-Z_]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => [m[1], m[2]?.trim()]))
    expect([...rows.keys()].sort()).toEqual(Object.values(ENV).sort())
    for (const name of Object.values(ENV)) expect(rows.get(name)).toBe(ENV_DEFAULTS[name])
  })

  it('are read under the names env.ts gives, nowhere spelled out', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const hits: string[] = []
    for (const dir of ['src/engine', 'src/cli']) {
      for (const file of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts') || join(dir, file) === join('src', 'engine', 'env.ts')) continue
        // Comments may name the variables; code may not.
        const text = readFileSync(join(root, dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
        // Quoted or template-string names, and process.env.WORKBENCH_….
        for (const m of text.matchAll(/['"`]WORKBENCH_[A-Z_]+|process\.env\.WORKBENCH_[A-Z_]+/g)) hits.push(`${join(dir, file)}: ${m[0]}`)
      }
    }
    expect(hits).toEqual([])
  })
})
