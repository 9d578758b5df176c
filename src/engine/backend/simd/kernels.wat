;; Training kernels in WebAssembly SIMD, run on the memory of tfjs's own wasm instance (imported), so
;; they read and write tensors where they lie. tfjs's wasm build has no kernel for these passes, or
;; one that is slow for training's shapes: written in JS, the elementwise passes ran at ~3 ns per
;; value, and the convolution's filter gradient, built from wasm's transposes and a convolution,
;; took twice the forward convolution's time (bench/profile-step.ts --worker, width ¼).
;;
;; Build: `npm run build:simd` (wabt) writes kernels-wasm.ts; a test checks that it matches this file.
;; It assembles two modules from this one source: this text as written (WebAssembly SIMD), and an FMA
;; build where, in each function marked `;; @fuse-multiply-add`, every f32x4 `c + a·b` and `c − a·b`
;; becomes relaxed SIMD's f32x4.relaxed_madd / relaxed_nmadd (scripts/build-simd-kernels.ts, fuse):
;; one instruction and one rounding instead of two where the CPU has FMA. The engine runs the FMA
;; build where the runtime validates relaxed SIMD (simd-kernels.ts), unless WORKBENCH_WASM_FMA=0.
;; Pointers are byte offsets into the imported memory; counts are in values. Nothing here uses a
;; stack or static data, so the module owns no memory of its own.
(module
  (import "env" "memory" (memory 0))

  ;; out[c] += Σ_p x[p, c] and out[C + c] += Σ_p x[p, c]², in float64, over `positions` rows of
  ;; `channels` float32 values (channels a multiple of 4). Sums run in the order of p, as the JS
  ;; loop they replace, so the results are the same bits.
  (func (export "channel_sums")
    (param $x i32) (param $positions i32) (param $channels i32) (param $out i32)
    (local $end i32) (local $rowEnd i32) (local $acc i32) (local $sq i32) (local $sqBytes i32)
    (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.mul (local.get $positions) (local.get $channels)) (i32.const 2))))
    (local.set $sqBytes (i32.shl (local.get $channels) (i32.const 3)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $channels) (i32.const 2))))
        (local.set $acc (local.get $out))
        (loop $groups
          (local.set $v (v128.load (local.get $x)))
          (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
          (local.set $hi (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
          (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (local.get $lo)))
          (v128.store offset=16 (local.get $acc)
            (f64x2.add (v128.load offset=16 (local.get $acc)) (local.get $hi)))
          (local.set $sq (i32.add (local.get $acc) (local.get $sqBytes)))
          (v128.store (local.get $sq)
            (f64x2.add (v128.load (local.get $sq)) (f64x2.mul (local.get $lo) (local.get $lo))))
          (v128.store offset=16 (local.get $sq)
            (f64x2.add (v128.load offset=16 (local.get $sq)) (f64x2.mul (local.get $hi) (local.get $hi))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
          (br_if $groups (i32.lt_u (local.get $x) (local.get $rowEnd))))
        (br $rows))))

  ;; The batch-norm gradient's sums: out[c] += Σ_p dy[p, c] and out[C + c] += Σ_p dy[p, c]·(x[p, c] − mean[c]),
  ;; in float64 (mean: `channels` float32 values), channels a multiple of 4, in the order of p, as the JS loop.
  (func (export "batch_norm_grad_sums")
    (param $x i32) (param $dy i32) (param $mean i32) (param $positions i32) (param $channels i32) (param $out i32)
    (local $end i32) (local $rowEnd i32) (local $acc i32) (local $sq i32) (local $sqBytes i32) (local $mu i32)
    (local $d v128) (local $xv v128) (local $m v128) (local $dlo v128) (local $dhi v128)
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.mul (local.get $positions) (local.get $channels)) (i32.const 2))))
    (local.set $sqBytes (i32.shl (local.get $channels) (i32.const 3)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $channels) (i32.const 2))))
        (local.set $acc (local.get $out))
        (local.set $mu (local.get $mean))
        (loop $groups
          (local.set $d (v128.load (local.get $dy)))
          (local.set $xv (v128.load (local.get $x)))
          (local.set $m (v128.load (local.get $mu)))
          (local.set $dlo (f64x2.promote_low_f32x4 (local.get $d)))
          (local.set $dhi (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
          (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (local.get $dlo)))
          (v128.store offset=16 (local.get $acc)
            (f64x2.add (v128.load offset=16 (local.get $acc)) (local.get $dhi)))
          (local.set $sq (i32.add (local.get $acc) (local.get $sqBytes)))
          (v128.store (local.get $sq)
            (f64x2.add (v128.load (local.get $sq))
              (f64x2.mul (local.get $dlo)
                (f64x2.sub (f64x2.promote_low_f32x4 (local.get $xv)) (f64x2.promote_low_f32x4 (local.get $m))))))
          (v128.store offset=16 (local.get $sq)
            (f64x2.add (v128.load offset=16 (local.get $sq))
              (f64x2.mul (local.get $dhi)
                (f64x2.sub
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xv) (local.get $xv)))
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m)))))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $mu (i32.add (local.get $mu) (i32.const 16)))
          (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
          (br_if $groups (i32.lt_u (local.get $x) (local.get $rowEnd))))
        (br $rows))))

  ;; Batch norm's forward pass, out[p, c] = (x[p, c] − mean[c])·a[c] + beta[c], where a = γ/√(var + ε):
  ;; one pass over `positions` rows of `channels` values (a multiple of 4); the vectors are float32.
  ;; @fuse-multiply-add
  (func (export "batch_norm_apply")
    (param $x i32) (param $mean i32) (param $a i32) (param $beta i32) (param $out i32) (param $positions i32) (param $channels i32)
    (local $end i32) (local $rowEnd i32) (local $k i32)
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.mul (local.get $positions) (local.get $channels)) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $channels) (i32.const 2))))
        (local.set $k (i32.const 0))
        (loop $groups
          (v128.store (local.get $out)
            (f32x4.add
              (f32x4.mul
                (f32x4.sub (v128.load (local.get $x)) (v128.load (i32.add (local.get $mean) (local.get $k))))
                (v128.load (i32.add (local.get $a) (local.get $k))))
              (v128.load (i32.add (local.get $beta) (local.get $k)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $x) (local.get $rowEnd))))
        (br $rows))))

  ;; Batch norm's input gradient, out[p, c] = dy[p, c]·g[c] + (x[p, c] − mean[c])·h[c] + k[c]: the
  ;; caller folds the batch's sums of dy and dy·(x − mean) into the per-channel g, h and k.
  ;; @fuse-multiply-add
  (func (export "batch_norm_backward")
    (param $x i32) (param $dy i32) (param $mean i32) (param $g i32) (param $h i32) (param $k i32) (param $out i32)
    (param $positions i32) (param $channels i32)
    (local $end i32) (local $rowEnd i32) (local $i i32)
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.mul (local.get $positions) (local.get $channels)) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $channels) (i32.const 2))))
        (local.set $i (i32.const 0))
        (loop $groups
          (v128.store (local.get $out)
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (local.get $dy)) (v128.load (i32.add (local.get $g) (local.get $i))))
                (f32x4.mul
                  (f32x4.sub (v128.load (local.get $x)) (v128.load (i32.add (local.get $mean) (local.get $i))))
                  (v128.load (i32.add (local.get $h) (local.get $i)))))
              (v128.load (i32.add (local.get $k) (local.get $i)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $x) (local.get $rowEnd))))
        (br $rows))))

  ;; The gradient of a 2×2, stride-2 max pool that tiles its input exactly: each input of a window
  ;; gets dy if it is the window's first maximum (row-major, strictly greater than those before it,
  ;; as tfjs's cpu backend and the JS loop in wasm-max-pool-grad.ts decide), else +0. x and dx are
  ;; [2·outRows, 2·outWidth, channels], dy [outRows, outWidth, channels]; channels a multiple of 4.
  (func (export "max_pool_2x2_grad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $outRows i32) (param $outWidth i32) (param $channels i32)
    (local $r i32) (local $ox i32) (local $groupEnd i32) (local $off i32) (local $rowBytes i32) (local $cBytes i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $best v128) (local $g v128)
    (local $ta v128) (local $tb v128) (local $tc v128) (local $td v128)
    (local.set $cBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.shl (i32.mul (local.get $outWidth) (local.get $cBytes)) (i32.const 1)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $outRows)))
        ;; Byte offset of the window's top-left input, in x and dx alike.
        (local.set $off (i32.mul (i32.shl (local.get $r) (i32.const 1)) (local.get $rowBytes)))
        (local.set $ox (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $ox) (local.get $outWidth)))
            (local.set $groupEnd (i32.add (local.get $off) (local.get $cBytes)))
            (loop $groups
              (local.set $a (v128.load (i32.add (local.get $x) (local.get $off))))
              (local.set $b (v128.load (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $cBytes))))
              (local.set $c (v128.load (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $rowBytes))))
              (local.set $d (v128.load (i32.add (i32.add (i32.add (local.get $x) (local.get $off)) (local.get $rowBytes)) (local.get $cBytes))))
              (local.set $ta (f32x4.gt (local.get $a) (v128.const f32x4 -inf -inf -inf -inf)))
              (local.set $best (v128.bitselect (local.get $a) (v128.const f32x4 -inf -inf -inf -inf) (local.get $ta)))
              (local.set $tb (f32x4.gt (local.get $b) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $b) (local.get $best) (local.get $tb)))
              (local.set $tc (f32x4.gt (local.get $c) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $c) (local.get $best) (local.get $tc)))
              (local.set $td (f32x4.gt (local.get $d) (local.get $best)))
              ;; The last input that beat every earlier one wins.
              (local.set $tc (v128.andnot (local.get $tc) (local.get $td)))
              (local.set $tb (v128.andnot (v128.andnot (local.get $tb) (local.get $tc)) (local.get $td)))
              (local.set $ta (v128.andnot (v128.andnot (v128.andnot (local.get $ta) (local.get $tb)) (local.get $tc)) (local.get $td)))
              (local.set $g (v128.load (local.get $dy)))
              (v128.store (i32.add (local.get $dx) (local.get $off)) (v128.and (local.get $g) (local.get $ta)))
              (v128.store (i32.add (i32.add (local.get $dx) (local.get $off)) (local.get $cBytes)) (v128.and (local.get $g) (local.get $tb)))
              (v128.store (i32.add (i32.add (local.get $dx) (local.get $off)) (local.get $rowBytes)) (v128.and (local.get $g) (local.get $tc)))
              (v128.store (i32.add (i32.add (i32.add (local.get $dx) (local.get $off)) (local.get $rowBytes)) (local.get $cBytes))
                (v128.and (local.get $g) (local.get $td)))
              (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
              (local.set $off (i32.add (local.get $off) (i32.const 16)))
              (br_if $groups (i32.lt_u (local.get $off) (local.get $groupEnd))))
            ;; Past the window's second column, to the next window.
            (local.set $off (i32.add (local.get $off) (local.get $cBytes)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br $cols)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out[c] += Σ_p x[p, c] in float64 over `positions` rows of `columns` float32 values (a multiple
  ;; of 4), in the order of p: the same bits as the JS column sum in wasm-reductions.ts.
  (func (export "column_sums")
    (param $x i32) (param $positions i32) (param $columns i32) (param $out i32)
    (local $end i32) (local $rowEnd i32) (local $acc i32) (local $v v128)
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.mul (local.get $positions) (local.get $columns)) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $columns) (i32.const 2))))
        (local.set $acc (local.get $out))
        (loop $groups
          (local.set $v (v128.load (local.get $x)))
          (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
          (v128.store offset=16 (local.get $acc)
            (f64x2.add (v128.load offset=16 (local.get $acc))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
          (br_if $groups (i32.lt_u (local.get $x) (local.get $rowEnd))))
        (br $rows))))

  ;; Byte offset in the padded dy of what position `pos` = (b, y, x) of dx reads at tap (0, 0):
  ;; ((b·hp + y)·wp + x)·o·4 + shift, `shift` placing the tap-(0, 0) read in the padded image.
  (func $inputGradBase (param $pos i32) (param $h i32) (param $w i32) (param $hp i32) (param $wp i32) (param $o i32)
    (param $dyp i32) (param $shift i32) (result i32)
    (local $row i32)
    (local.set $row (i32.div_u (local.get $pos) (local.get $w)))
    (i32.add (i32.add (local.get $dyp) (local.get $shift))
      (i32.shl
        (i32.mul
          (i32.add
            (i32.mul
              (i32.add (i32.mul (i32.div_u (local.get $row) (local.get $h)) (local.get $hp)) (i32.rem_u (local.get $row) (local.get $h)))
              (local.get $wp))
            (i32.rem_u (local.get $pos) (local.get $w)))
          (local.get $o))
        (i32.const 2))))

  ;; The input gradient of a stride-1, undilated NHWC convolution: dx[b, y, x, c] =
  ;; Σ_(i, j, o) dy[b, y + top − i, x + left − j, o] · w[i, j, c, o]. The caller passes dy zero-padded
  ;; (dyp, [n, hp, wp, o]) so that every read lands inside it, `shift` = the byte offset of dy's
  ;; (top + padTop, left + padLeft) in a padded image, and the filter packed for it, in groups of 8
  ;; input channels: wp[c / 8, i, j, o, c mod 8], so that one group's values for every tap and output
  ;; channel lie end to end (a plain wt[i, j, o, c] made each 32-byte read a different cache line, half
  ;; of it unused, over a slice too large for L1 at 512 channels). dx is [n, h, w, c], c a multiple of
  ;; 8. Four positions × 8 channels of dx are summed in registers over every tap and output channel,
  ;; as in conv_filter_grad, starting from `bias` (a pointer to c floats) unless it is 0. The same
  ;; sum is a forward convolution of a padded image with the filter rotated (wasm-conv-forward.ts).
  ;; @fuse-multiply-add
  (func (export "conv_input_grad")
    (param $dyp i32) (param $wt i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $hp i32) (param $wp i32) (param $o i32) (param $fh i32) (param $fw i32) (param $shift i32) (param $bias i32)
    (local $positions i32) (local $cb i32) (local $pg i32) (local $i i32) (local $j i32) (local $t i32) (local $tEnd i32)
    (local $tapBytes i32) (local $cBytes i32) (local $wq i32) (local $wStep i32)
    (local $pos0 i32) (local $pos1 i32) (local $pos2 i32) (local $pos3 i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128) (local $s v128) (local $b0 v128) (local $b1 v128)
    (local.set $positions (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $w)))
    (local.set $cBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $tapBytes (i32.shl (local.get $o) (i32.const 2)))
    ;; Packed values per input channel: one per tap and output channel.
    (local.set $wStep (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $o)))
    (local.set $cb (i32.const 0))
    (loop $cblocks
      (local.set $pg (i32.const 0))
      (loop $groups
        ;; A short last group repeats its first position, and stores only the real ones.
        (local.set $pos0 (local.get $pg))
        (local.set $pos1 (i32.add (local.get $pg) (i32.const 1)))
        (local.set $pos2 (i32.add (local.get $pg) (i32.const 2)))
        (local.set $pos3 (i32.add (local.get $pg) (i32.const 3)))
        (local.set $p0 (call $inputGradBase (local.get $pos0) (local.get $h) (local.get $w) (local.get $hp) (local.get $wp) (local.get $o) (local.get $dyp) (local.get $shift)))
        (local.set $p1 (call $inputGradBase (select (local.get $pos1) (local.get $pg) (i32.lt_u (local.get $pos1) (local.get $positions))) (local.get $h) (local.get $w) (local.get $hp) (local.get $wp) (local.get $o) (local.get $dyp) (local.get $shift)))
        (local.set $p2 (call $inputGradBase (select (local.get $pos2) (local.get $pg) (i32.lt_u (local.get $pos2) (local.get $positions))) (local.get $h) (local.get $w) (local.get $hp) (local.get $wp) (local.get $o) (local.get $dyp) (local.get $shift)))
        (local.set $p3 (call $inputGradBase (select (local.get $pos3) (local.get $pg) (i32.lt_u (local.get $pos3) (local.get $positions))) (local.get $h) (local.get $w) (local.get $hp) (local.get $wp) (local.get $o) (local.get $dyp) (local.get $shift)))
        ;; The sums start at the bias of these 8 channels (a forward convolution's), or at 0.
        (if (local.get $bias)
          (then
            (local.set $a00 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $cb) (i32.const 2)))))
            (local.set $a01 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $cb) (i32.const 2))))))
          (else
            (local.set $a00 (v128.const i32x4 0 0 0 0))
            (local.set $a01 (v128.const i32x4 0 0 0 0))))
        (local.set $a10 (local.get $a00))
        (local.set $a11 (local.get $a01))
        (local.set $a20 (local.get $a00))
        (local.set $a21 (local.get $a01))
        (local.set $a30 (local.get $a00))
        (local.set $a31 (local.get $a01))
        ;; This group's packed values start cb · fh · fw · o floats in.
        (local.set $wq (i32.add (local.get $wt) (i32.shl (i32.mul (local.get $cb) (local.get $wStep)) (i32.const 2))))
        (local.set $i (i32.const 0))
        (loop $taprows
          (local.set $j (i32.const 0))
          (loop $tapcols
            ;; Tap (i, j) reads (i·wp + j) positions before tap (0, 0): t runs over its o values.
            (local.set $t (i32.mul (i32.sub (i32.const 0) (i32.add (i32.mul (local.get $i) (local.get $wp)) (local.get $j))) (local.get $tapBytes)))
            (local.set $tEnd (i32.add (local.get $t) (local.get $tapBytes)))
            (loop $outchannels
              (local.set $b0 (v128.load (local.get $wq)))
              (local.set $b1 (v128.load offset=16 (local.get $wq)))
                  (local.set $s (v128.load32_splat (i32.add (local.get $p0) (local.get $t))))
                  (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $b0))))
                  (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $b1))))
                  (local.set $s (v128.load32_splat (i32.add (local.get $p1) (local.get $t))))
                  (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $b0))))
                  (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $b1))))
                  (local.set $s (v128.load32_splat (i32.add (local.get $p2) (local.get $t))))
                  (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $b0))))
                  (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $b1))))
                  (local.set $s (v128.load32_splat (i32.add (local.get $p3) (local.get $t))))
                  (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $b0))))
                  (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $b1))))
              (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
              (local.set $t (i32.add (local.get $t) (i32.const 4)))
              (br_if $outchannels (i32.lt_s (local.get $t) (local.get $tEnd))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $tapcols (i32.lt_u (local.get $j) (local.get $fw))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $taprows (i32.lt_u (local.get $i) (local.get $fh))))
        (if (i32.lt_u (local.get $pos0) (local.get $positions)) (then
          (v128.store (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos0) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a00))
          (v128.store offset=16 (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos0) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a01))))
        (if (i32.lt_u (local.get $pos1) (local.get $positions)) (then
          (v128.store (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos1) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a10))
          (v128.store offset=16 (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos1) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a11))))
        (if (i32.lt_u (local.get $pos2) (local.get $positions)) (then
          (v128.store (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos2) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a20))
          (v128.store offset=16 (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos2) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a21))))
        (if (i32.lt_u (local.get $pos3) (local.get $positions)) (then
          (v128.store (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos3) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a30))
          (v128.store offset=16 (i32.add (local.get $dx) (i32.add (i32.mul (local.get $pos3) (local.get $cBytes)) (i32.shl (local.get $cb) (i32.const 2)))) (local.get $a31))))
        (local.set $pg (i32.add (local.get $pg) (i32.const 4)))
        (br_if $groups (i32.lt_u (local.get $pg) (local.get $positions))))
      (local.set $cb (i32.add (local.get $cb) (i32.const 8)))
      (br_if $cblocks (i32.lt_u (local.get $cb) (local.get $c)))))

  ;; dst[i] += src[i] for n float32 values.
  (func (export "add_into") (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $dst) (local.get $end4)))
        (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br $tail))))

  ;; The ReLU's gradient in one pass: dx[i] = dy[i] · (x[i] > 0 ? 1 : 0), for n float32 values.
  ;; Multiplied, not masked, so that the bits are those of tfjs's mul(dy, cast(step(x))) (−0 where
  ;; dy < 0 and x ≤ 0, NaN where dy is infinite), which took three elementwise passes.
  (func (export "relu_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $dx) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $dx) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $dx) (local.get $end4)))
        (v128.store (local.get $dx)
          (f32x4.mul (v128.load (local.get $dy))
            (v128.and (f32x4.gt (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $dx) (local.get $end)))
        (f32.store (local.get $dx)
          (f32.mul (f32.load (local.get $dy)) (select (f32.const 1) (f32.const 0) (f32.gt (f32.load (local.get $x)) (f32.const 0)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
        (br $tail))))

  ;; dst[c, r] = src[r, c] for a [rows, cols] float32 matrix (rows and cols multiples of 4), in
  ;; 4×4 blocks transposed in registers. The columns go in bands of 64, so that the band's 64
  ;; destination rows, written 16 bytes at a time, stay in the L1 cache while the source streams by.
  ;; Against JS in 16×16 blocks (wasm-transpose.ts), warm: 1024×1024 4.0 → 1.8 ms, 4096×4096 (the
  ;; width-1 fc2 weights, once a step) 58 → 38 ms; from cold memory both are bound by the misses.
  (func (export "transpose")
    (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $band i32) (local $bandEnd i32) (local $r i32) (local $c i32)
    (local $rowBytes i32) (local $colBytes i32) (local $s i32) (local $d i32)
    (local $a v128) (local $b v128) (local $e v128) (local $f v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ;; Bytes from one source row to the next, and from one destination row to the next.
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $rows) (i32.const 2)))
    (block $bandsDone
      (loop $bands
        (br_if $bandsDone (i32.ge_u (local.get $band) (local.get $cols)))
        (local.set $bandEnd (i32.add (local.get $band) (i32.const 64)))
        (if (i32.gt_u (local.get $bandEnd) (local.get $cols)) (then (local.set $bandEnd (local.get $cols))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowGroups
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $c (local.get $band))
            (block $colsDone
              (loop $colGroups
                (br_if $colsDone (i32.ge_u (local.get $c) (local.get $bandEnd)))
                (local.set $s (i32.add (local.get $src)
                  (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
                (local.set $d (i32.add (local.get $dst)
                  (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
                ;; Rows r … r+3 of columns c … c+3: a, b, e, f.
                (local.set $a (v128.load (local.get $s)))
                (local.set $b (v128.load (i32.add (local.get $s) (local.get $rowBytes))))
                (local.set $e (v128.load (i32.add (local.get $s) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                (local.set $f (v128.load (i32.add (local.get $s) (i32.mul (local.get $rowBytes) (i32.const 3)))))
                ;; t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2 = e0 f0 e1 f1, t3 = e2 f2 e3 f3
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $e) (local.get $f)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $e) (local.get $f)))
                ;; Column c + k of the source is row c + k of the destination: (a_k, b_k, e_k, f_k).
                (v128.store (local.get $d)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $d) (local.get $colBytes))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $d) (i32.shl (local.get $colBytes) (i32.const 1)))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (v128.store (i32.add (local.get $d) (i32.mul (local.get $colBytes) (i32.const 3)))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $colGroups)))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $rowGroups)))
        (local.set $band (local.get $bandEnd))
        (br $bands))))

  ;; dst[r, 0…8] = src[r·stride … r·stride + 8] for r < count (stride in floats, src and dst not
  ;; overlapping): gathers runs of 8 values lying `stride` apart into one run, as the SIMD kernels read
  ;; their packed filters and weights (SimdKernels.packPanels8). Two 16-byte moves a run,
  ;; where the JS loop it replaces moved one value at a time. (Reading the source end to end and
  ;; writing a row into every panel in turn took twice as long for a 1024 × 1024 dense layer: its
  ;; panels' rows lie 32 KB apart, all in the same few cache sets.)
  (func (export "gather_runs8") (param $src i32) (param $stride i32) (param $dst i32) (param $count i32)
    (local $end i32) (local $step i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 5))))
    (local.set $step (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $runs
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $step)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $runs))))

  ;; gather_runs8 for four neighbouring runs at once: dst[g, r, 0…8] = src[r·stride + 8·g …] for g < 4,
  ;; panel g starting g·panelBytes after dst. Each row then gives 128 bytes (two whole cache lines) per
  ;; visit instead of 32, a quarter of the row visits (and of the TLB misses, rows being 16 KB apart
  ;; in a width-1 dense layer): fc2's forward at batch 32, alternating runs, width 1 48 → 37 ms,
  ;; width ¼ 2.6 → 2.2 ms.
  (func (export "gather_runs8x4") (param $src i32) (param $stride i32) (param $dst i32) (param $count i32) (param $panelBytes i32)
    (local $end i32) (local $step i32) (local $d1 i32) (local $d2 i32) (local $d3 i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 5))))
    (local.set $step (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $d1 (i32.add (local.get $dst) (local.get $panelBytes)))
    (local.set $d2 (i32.add (local.get $d1) (local.get $panelBytes)))
    (local.set $d3 (i32.add (local.get $d2) (local.get $panelBytes)))
    (block $done
      (loop $runs
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
        (v128.store (local.get $d1) (v128.load offset=32 (local.get $src)))
        (v128.store offset=16 (local.get $d1) (v128.load offset=48 (local.get $src)))
        (v128.store (local.get $d2) (v128.load offset=64 (local.get $src)))
        (v128.store offset=16 (local.get $d2) (v128.load offset=80 (local.get $src)))
        (v128.store (local.get $d3) (v128.load offset=96 (local.get $src)))
        (v128.store offset=16 (local.get $d3) (v128.load offset=112 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $step)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $d1 (i32.add (local.get $d1) (i32.const 32)))
        (local.set $d2 (i32.add (local.get $d2) (i32.const 32)))
        (local.set $d3 (i32.add (local.get $d3) (i32.const 32)))
        (br $runs))))

  ;; dst[p, 0…c] = src[p, 0…c] and dst[p, c…cp] = 0 for p < pixels: an image with c channels widened to
  ;; cp ≥ c, as conv_filter_grad wants whole groups of 4 (an RGB image gets a zero fourth channel). In
  ;; JS this was a millisecond of every width-¼ step, for the first layer’s 32 × 32 × 32 × 3 input. (The
  ;; filter gradient rows of the extra channels are dropped: the zeros only keep them finite.)
  (func (export "widen_channels") (param $src i32) (param $dst i32) (param $pixels i32) (param $c i32) (param $cp i32)
    (local $end i32) (local $i i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $pixels) (local.get $cp)) (i32.const 2))))
    (block $done
      (loop $pixelLoop
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $i (i32.const 0))
        (loop $copy
          (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
            (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $copy (i32.lt_u (local.get $i) (local.get $c))))
        (block $zeroed
          (loop $zero
            (br_if $zeroed (i32.ge_u (local.get $i) (local.get $cp)))
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))) (f32.const 0))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $zero)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $cp) (i32.const 2))))
        (br $pixelLoop))))

  ;; One SGD-with-momentum step over n float32 values, with the gradient g0 + g1 and L2 decay
  ;; (PyTorch's SGD): g = g0 + g1 + wd·w; v = μ·v + g; out = w − lr·v, or with Nesterov
  ;; out = w − lr·(g + μ·v). `v` is updated in place; `out` may be `w`.
  ;; @fuse-multiply-add
  (func (export "momentum_step")
    (param $w i32) (param $g0 i32) (param $g1 i32) (param $v i32) (param $out i32) (param $n i32)
    (param $lr f32) (param $mu f32) (param $wd f32) (param $nesterov i32)
    (local $i i32) (local $bytes i32) (local $bytes4 i32)
    (local $LR v128) (local $MU v128) (local $WD v128) (local $ww v128) (local $g v128) (local $vv v128)
    (local $sw f32) (local $sg f32) (local $sv f32)
    (local.set $LR (f32x4.splat (local.get $lr)))
    (local.set $MU (f32x4.splat (local.get $mu)))
    (local.set $WD (f32x4.splat (local.get $wd)))
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $bytes4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $i) (local.get $bytes4)))
        (local.set $ww (v128.load (i32.add (local.get $w) (local.get $i))))
        (local.set $g (f32x4.add
          (f32x4.add (v128.load (i32.add (local.get $g0) (local.get $i))) (v128.load (i32.add (local.get $g1) (local.get $i))))
          (f32x4.mul (local.get $WD) (local.get $ww))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $MU) (v128.load (i32.add (local.get $v) (local.get $i)))) (local.get $g)))
        (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $vv))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.sub (local.get $ww) (f32x4.mul (local.get $LR)
            (select (result v128)
              (f32x4.add (local.get $g) (f32x4.mul (local.get $MU) (local.get $vv)))
              (local.get $vv)
              (local.get $nesterov)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $sw (f32.load (i32.add (local.get $w) (local.get $i))))
        (local.set $sg (f32.add
          (f32.add (f32.load (i32.add (local.get $g0) (local.get $i))) (f32.load (i32.add (local.get $g1) (local.get $i))))
          (f32.mul (local.get $wd) (local.get $sw))))
        (local.set $sv (f32.add (f32.mul (local.get $mu) (f32.load (i32.add (local.get $v) (local.get $i)))) (local.get $sg)))
        (f32.store (i32.add (local.get $v) (local.get $i)) (local.get $sv))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.sub (local.get $sw) (f32.mul (local.get $lr)
            (select (f32.add (local.get $sg) (f32.mul (local.get $mu) (local.get $sv))) (local.get $sv) (local.get $nesterov)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; The filter gradient of a stride-1, undilated NHWC convolution: dw[i, j, c, o] =
  ;; Σ_(b, y, x) x[b, y + i − top, x + j − left, c] · dy[b, y, x, o], terms outside the image being 0.
  ;; x is [n, h, w, c], dy [n, oh, ow, o], dw [fh, fw, c, o] (overwritten); c a multiple of 4 and o
  ;; of 8. Each 4×8 block of dw is summed in registers over a run of output positions (one output
  ;; row at a time, whose valid columns are contiguous in x and dy), as XNNPACK's GEMM micro-kernels
  ;; do; the rows come in chunks of `chunkRows`, sized by the caller so that a chunk of x and dy
  ;; stays in the L1 cache while every block of dw passes over it.
  ;; @fuse-multiply-add
  (func (export "conv_filter_grad")
    (param $x i32) (param $dy i32) (param $dw i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $o i32) (param $fh i32) (param $fw i32) (param $top i32) (param $left i32)
    (param $chunkRows i32)
    (local $rows i32) (local $r0 i32) (local $r1 i32) (local $r i32) (local $i i32) (local $j i32) (local $cb i32) (local $ob i32)
    (local $xlo i32) (local $xhi i32) (local $count i32) (local $k i32) (local $y i32) (local $b i32) (local $yin i32)
    (local $cBytes i32) (local $oBytes i32) (local $accp i32) (local $xp i32) (local $dp i32) (local $p i32) (local $end i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128) (local $s v128) (local $b0 v128) (local $b1 v128)
    (local.set $cBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $oBytes (i32.shl (local.get $o) (i32.const 2)))
    ;; Zero dw: fh·fw·c·o values, a multiple of 32.
    (local.set $p (local.get $dw))
    (local.set $end (i32.add (local.get $dw)
      (i32.mul (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $c)) (local.get $oBytes))))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $zero)))
    (local.set $rows (i32.mul (local.get $n) (local.get $oh)))
    (block $chunksDone
      (loop $chunks
        (br_if $chunksDone (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $chunkRows)))
        (if (i32.gt_u (local.get $r1) (local.get $rows)) (then (local.set $r1 (local.get $rows))))
        (local.set $i (i32.const 0))
        (loop $taprows
          (local.set $j (i32.const 0))
          (loop $tapcols
            ;; Output columns whose input column x + j − left lies inside the image.
            (local.set $xlo (i32.sub (local.get $left) (local.get $j)))
            (if (i32.lt_s (local.get $xlo) (i32.const 0)) (then (local.set $xlo (i32.const 0))))
            (local.set $xhi (i32.sub (i32.add (local.get $w) (local.get $left)) (local.get $j)))
            (if (i32.gt_s (local.get $xhi) (local.get $ow)) (then (local.set $xhi (local.get $ow))))
            (local.set $count (i32.sub (local.get $xhi) (local.get $xlo)))
            (if (i32.gt_s (local.get $count) (i32.const 0))
              (then
                (local.set $cb (i32.const 0))
                (loop $cblocks
                  (local.set $ob (i32.const 0))
                  (loop $oblocks
                    (local.set $accp (i32.add (local.get $dw) (i32.shl
                      (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $fw)) (local.get $j)) (local.get $c)) (local.get $cb)) (local.get $o)) (local.get $ob))
                      (i32.const 2))))
                  (local.set $a00 (v128.load offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 0) (local.get $oBytes)))))
                  (local.set $a01 (v128.load offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 0) (local.get $oBytes)))))
                  (local.set $a10 (v128.load offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 1) (local.get $oBytes)))))
                  (local.set $a11 (v128.load offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 1) (local.get $oBytes)))))
                  (local.set $a20 (v128.load offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 2) (local.get $oBytes)))))
                  (local.set $a21 (v128.load offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 2) (local.get $oBytes)))))
                  (local.set $a30 (v128.load offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 3) (local.get $oBytes)))))
                  (local.set $a31 (v128.load offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 3) (local.get $oBytes)))))
                    (local.set $y (i32.rem_u (local.get $r0) (local.get $oh)))
                    (local.set $b (i32.div_u (local.get $r0) (local.get $oh)))
                    (local.set $r (local.get $r0))
                    (loop $outrows
                      (local.set $yin (i32.sub (i32.add (local.get $y) (local.get $i)) (local.get $top)))
                      (if (i32.and (i32.ge_s (local.get $yin) (i32.const 0)) (i32.lt_s (local.get $yin) (local.get $h)))
                        (then
                          (local.set $xp (i32.add (local.get $x) (i32.add
                            (i32.mul (i32.sub (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yin)) (local.get $w)) (i32.add (local.get $xlo) (local.get $j))) (local.get $left)) (local.get $cBytes))
                            (i32.shl (local.get $cb) (i32.const 2)))))
                          (local.set $dp (i32.add (local.get $dy) (i32.add
                            (i32.mul (i32.add (i32.mul (local.get $r) (local.get $ow)) (local.get $xlo)) (local.get $oBytes))
                            (i32.shl (local.get $ob) (i32.const 2)))))
                          (local.set $k (local.get $count))
                          (loop $positions
                            (local.set $b0 (v128.load (local.get $dp)))
                            (local.set $b1 (v128.load offset=16 (local.get $dp)))
                          (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
                          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $b0))))
                          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $b1))))
                          (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
                          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $b0))))
                          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $b1))))
                          (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
                          (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $b0))))
                          (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $b1))))
                          (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
                          (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $b0))))
                          (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $b1))))
                            (local.set $xp (i32.add (local.get $xp) (local.get $cBytes)))
                            (local.set $dp (i32.add (local.get $dp) (local.get $oBytes)))
                            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                            (br_if $positions (local.get $k)))))
                      (local.set $y (i32.add (local.get $y) (i32.const 1)))
                      (if (i32.eq (local.get $y) (local.get $oh))
                        (then (local.set $y (i32.const 0)) (local.set $b (i32.add (local.get $b) (i32.const 1)))))
                      (local.set $r (i32.add (local.get $r) (i32.const 1)))
                      (br_if $outrows (i32.lt_u (local.get $r) (local.get $r1))))
                  (v128.store offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 0) (local.get $oBytes))) (local.get $a00))
                  (v128.store offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 0) (local.get $oBytes))) (local.get $a01))
                  (v128.store offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 1) (local.get $oBytes))) (local.get $a10))
                  (v128.store offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 1) (local.get $oBytes))) (local.get $a11))
                  (v128.store offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 2) (local.get $oBytes))) (local.get $a20))
                  (v128.store offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 2) (local.get $oBytes))) (local.get $a21))
                  (v128.store offset=0 (i32.add (local.get $accp) (i32.mul (i32.const 3) (local.get $oBytes))) (local.get $a30))
                  (v128.store offset=16 (i32.add (local.get $accp) (i32.mul (i32.const 3) (local.get $oBytes))) (local.get $a31))
                    (local.set $ob (i32.add (local.get $ob) (i32.const 8)))
                    (br_if $oblocks (i32.lt_u (local.get $ob) (local.get $o))))
                  (local.set $cb (i32.add (local.get $cb) (i32.const 4)))
                  (br_if $cblocks (i32.lt_u (local.get $cb) (local.get $c))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $tapcols (i32.lt_u (local.get $j) (local.get $fw))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $taprows (i32.lt_u (local.get $i) (local.get $fh))))
        (local.set $r0 (local.get $r1))
        (br $chunks))))
)
