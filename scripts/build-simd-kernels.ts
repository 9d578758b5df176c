/**
 * `npm run build:simd [-- --check]`: assembles src/engine/backend/simd/kernels.wat (WebAssembly text)
 * into kernels-wasm.ts, the modules' bytes as base64, so the engine needs no assembler at run time:
 *
 * - KERNELS_WASM_BASE64: kernels.wat as written (WebAssembly SIMD);
 * - KERNELS_FMA_WASM_BASE64: the same module with the multiply-adds of every function marked
 *   `;; @fuse-multiply-add` fused into relaxed SIMD's `f32x4.relaxed_madd` / `relaxed_nmadd`
 *   (see fuseMultiplyAdds): one source, two builds;
 * - RELAXED_SIMD_PROBE_BASE64: a tiny module using `f32x4.relaxed_madd`, which the engine validates at
 *   start-up to tell whether this runtime has relaxed SIMD.
 *
 * With --check, exits 1 if kernels-wasm.ts is not what the .wat assembles to (the test suite runs
 * this check, so the .wat and the three modules cannot drift apart).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import wabtFactory from 'wabt'

const WAT = fileURLToPath(new URL('../src/engine/backend/simd/kernels.wat', import.meta.url))
const OUT = fileURLToPath(new URL('../src/engine/backend/simd/kernels-wasm.ts', import.meta.url))

/** The line comment that marks the next function for fusing in the FMA build. */
export const FUSE_MARKER = '@fuse-multiply-add'

/** Relaxed SIMD in its smallest form: validates only where the runtime has it. */
const PROBE_WAT = `(module
  (func (export "probe") (param f32 f32 f32) (result f32)
    (f32x4.extract_lane 0
      (f32x4.relaxed_madd (f32x4.splat (local.get 0)) (f32x4.splat (local.get 1)) (f32x4.splat (local.get 2))))))`

/** An S-expression of the text format: an atom (keyword, name, number, string) or a list. */
type Sexp = string | Sexp[]

/**
 * Parses WebAssembly text into S-expressions. Comments are dropped, except a line comment that is
 * exactly `;; @fuse-multiply-add`, which stays as the atom `;;@fuse-multiply-add` where it stood.
 */
function parse(text: string): Sexp[] {
  const stack: Sexp[][] = [[]]
  const top = (): Sexp[] => stack[stack.length - 1] as Sexp[]
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/.test(ch)) i++
    else if (text.startsWith(';;', i)) {
      const end = text.indexOf('\n', i)
      const comment = text.slice(i + 2, end < 0 ? text.length : end).trim()
      if (comment === FUSE_MARKER) top().push(`;;${FUSE_MARKER}`)
      i = end < 0 ? text.length : end + 1
    } else if (text.startsWith('(;', i)) {
      const end = text.indexOf(';)', i)
      if (end < 0) throw new Error('kernels.wat: unterminated block comment')
      i = end + 2
    } else if (ch === '(') {
      const list: Sexp[] = []
      top().push(list)
      stack.push(list)
      i++
    } else if (ch === ')') {
      if (stack.length === 1) throw new Error(`kernels.wat: unbalanced ')' at offset ${i}`)
      stack.pop()
      i++
    } else if (ch === '"') {
      let end = i + 1
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      top().push(text.slice(i, end + 1))
      i = end + 1
    } else {
      let end = i
      while (end < text.length && !/[\s()";]/.test(text[end] as string)) end++
      top().push(text.slice(i, end))
      i = end
    }
  }
  if (stack.length !== 1) throw new Error('kernels.wat: unbalanced parentheses')
  return stack[0] as Sexp[]
}

function print(e: Sexp): string {
  return typeof e === 'string' ? e : `(${e.map(print).join(' ')})`
}

const isOp = (e: Sexp, op: string): e is Sexp[] => Array.isArray(e) && e[0] === op && e.length === 3
/** Whether evaluating `e` writes anything: moving it past another operand would then change results. */
const writes = (e: Sexp): boolean => (typeof e === 'string' ? e === 'local.tee' || e === 'call' || e.endsWith('.store') : e.some(writes))

/**
 * Rewrites, bottom-up, `(f32x4.add c (f32x4.mul a b))` and `(f32x4.add (f32x4.mul a b) c)` into
 * `(f32x4.relaxed_madd a b c)`, and `(f32x4.sub c (f32x4.mul a b))` into `(f32x4.relaxed_nmadd a b c)`
 * (c − a·b). Nothing is reassociated: each result is the same expression with one rounding fewer
 * where the CPU has FMA (relaxed SIMD lets the runtime choose; x86-64 with FMA3 and arm64 fuse).
 * Returns the rewritten expression and how many it fused.
 */
function fuse(e: Sexp): { e: Sexp; count: number } {
  if (typeof e === 'string') return { e, count: 0 }
  let count = 0
  const items = e.map((child) => {
    const done = fuse(child)
    count += done.count
    return done.e
  })
  const [op, left, right] = items as [Sexp, Sexp, Sexp]
  const movable = (product: Sexp[], addend: Sexp): boolean => !writes(product) && !writes(addend)
  if (isOp(items, 'f32x4.add') || isOp(items, 'f32x4.sub')) {
    const add = op === 'f32x4.add'
    if (isOp(right, 'f32x4.mul') && movable(right, left)) {
      return { e: [add ? 'f32x4.relaxed_madd' : 'f32x4.relaxed_nmadd', right[1] as Sexp, right[2] as Sexp, left], count: count + 1 }
    }
    if (add && isOp(left, 'f32x4.mul') && movable(left, right)) {
      return { e: ['f32x4.relaxed_madd', left[1] as Sexp, left[2] as Sexp, right], count: count + 1 }
    }
  }
  return { e: items, count }
}

/**
 * The FMA build's source: kernels.wat with the multiply-adds of each function marked
 * `;; @fuse-multiply-add` fused (see fuse). Returns the module's text and, per marked function (by
 * its export name), how many it fused; a marked function with nothing to fuse is an error, so the
 * marker cannot silently stop meaning anything.
 */
export function fuseMultiplyAdds(watText: string): { text: string; fused: Record<string, number> } {
  const top = parse(watText)
  const module = top.find((e): e is Sexp[] => Array.isArray(e) && e[0] === 'module')
  if (!module) throw new Error('kernels.wat: no (module …)')
  const fused: Record<string, number> = {}
  const out: Sexp[] = []
  let marked = false
  for (const item of module) {
    if (item === `;;${FUSE_MARKER}`) {
      marked = true
      continue
    }
    if (!marked) {
      out.push(item)
      continue
    }
    if (!Array.isArray(item) || item[0] !== 'func') throw new Error(`kernels.wat: ${FUSE_MARKER} must stand right before a (func …)`)
    const exported = item.find((e): e is Sexp[] => Array.isArray(e) && e[0] === 'export')
    const name = exported ? String(exported[1]).replace(/"/g, '') : String(item[1])
    const done = fuse(item)
    if (done.count === 0) throw new Error(`kernels.wat: ${name} is marked ${FUSE_MARKER} but has no f32x4 multiply-add to fuse`)
    fused[name] = done.count
    out.push(done.e)
    marked = false
  }
  if (marked) throw new Error(`kernels.wat: ${FUSE_MARKER} at the end of the module, before no function`)
  return { text: print(out), fused }
}

/** wabt, loaded once for the three modules generate assembles. */
let wabtLoaded: ReturnType<typeof wabtFactory> | undefined

/** Assembles WebAssembly text to bytes (validated), as base64. */
async function assemble(name: string, watText: string, relaxed: boolean): Promise<string> {
  const wabt = await (wabtLoaded ??= wabtFactory())
  const module = wabt.parseWat(name, watText, { simd: true, relaxed_simd: relaxed })
  try {
    module.validate()
    const { buffer } = module.toBinary({ log: false, write_debug_names: false })
    return Buffer.from(buffer).toString('base64')
  } finally {
    module.destroy()
  }
}

/** The generated module's text for the given .wat source. */
export async function generate(watText: string): Promise<string> {
  const plain = await assemble('kernels.wat', watText, false)
  const { text, fused } = fuseMultiplyAdds(watText)
  const fma = await assemble('kernels.wat (fused)', text, true)
  const probe = await assemble('probe.wat', PROBE_WAT, true)
  const counts = Object.entries(fused).map(([name, n]) => `${name} ${n}`).join(', ')
  return [
    '// Generated by `npm run build:simd` from kernels.wat: do not edit.',
    '/** kernels.wat as written: WebAssembly SIMD. */',
    'export const KERNELS_WASM_BASE64 =',
    `  '${plain}'`,
    `/** kernels.wat with its marked multiply-adds fused (relaxed SIMD), per function: ${counts}. */`,
    'export const KERNELS_FMA_WASM_BASE64 =',
    `  '${fma}'`,
    '/** A module using f32x4.relaxed_madd: it validates only where the runtime has relaxed SIMD. */',
    `export const RELAXED_SIMD_PROBE_BASE64 = '${probe}'`,
    ''
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await generate(readFileSync(WAT, 'utf8'))
  if (process.argv.includes('--check')) {
    const current = readFileSync(OUT, 'utf8')
    if (current !== text) {
      console.error(`${OUT} is not what kernels.wat assembles to: run npm run build:simd`)
      process.exit(1)
    }
  } else {
    writeFileSync(OUT, text)
    console.log(`wrote ${OUT}`)
  }
}
