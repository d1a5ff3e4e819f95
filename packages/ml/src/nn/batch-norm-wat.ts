/**
 * WebAssembly SIMD text of the batch-norm passes that `batch-norm-kernel.ts` runs on the wasm
 * backend, directly on tfjs's heap (the module imports that memory). Tensors are NHWC float32
 * [P pixels, C channels] with C a multiple of 4; every pass walks the pixels in order, four
 * channels at a time. Sums are accumulated in float64 (`acc`, 2·C values, zeroed by the caller).
 *
 * - `stats(x, P, C, acc)`: acc[c] += x, acc[C + c] += x².
 * - `affine(x, y, P, C, ab, relu)`: y = x·a[c] + b[c] (ab: 2·C float32), then max(·, 0) if relu.
 * - `gradSums(dy, x, y, P, C, acc, relu)`: g = dy, masked by y > 0 if relu; acc[c] += g,
 *   acc[C + c] += g·x.
 * - `gradWrite(dy, x, y, dx, P, C, abc, relu)`: dx = g·A[c] + x·B[c] + C[c] (abc: 3·C float32).
 *
 * The compiled bytes live in `batch-norm-wasm-bytes.ts`; `test/batch-norm-wasm.test.ts` compiles
 * this text with wabt and checks they match (with `KZR_WRITE_WASM=1` it rewrites them).
 */
export const batchNormWat = String.raw`
(module
  (import "env" "memory" (memory 1))

  (func (export "stats") (param $x i32) (param $n i32) (param $c i32) (param $acc i32)
    (local $p i32) (local $k i32) (local $a i32) (local $q i32) (local $cb i32)
    (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 3)))
    (local.set $p (i32.const 0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $a (local.get $acc))
      (local.set $k (i32.const 0))
      (block $kd (loop $kl
        (br_if $kd (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (local.get $lo)))
        (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a)) (local.get $hi)))
        (local.set $q (i32.add (local.get $a) (local.get $cb)))
        (v128.store (local.get $q)
          (f64x2.add (v128.load (local.get $q)) (f64x2.mul (local.get $lo) (local.get $lo))))
        (v128.store offset=16 (local.get $q)
          (f64x2.add (v128.load offset=16 (local.get $q)) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $kl)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl))))

  (func (export "affine") (param $x i32) (param $y i32) (param $n i32) (param $c i32) (param $ab i32)
        (param $relu i32)
    (local $p i32) (local $k i32) (local $a i32) (local $cb i32) (local $r v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $p (i32.const 0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $a (local.get $ab))
      (local.set $k (i32.const 0))
      (block $kd (loop $kl
        (br_if $kd (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $r (f32x4.add
          (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $a)))
          (v128.load (i32.add (local.get $a) (local.get $cb)))))
        (if (local.get $relu)
          (then (local.set $r (f32x4.max (local.get $r) (f32x4.splat (f32.const 0))))))
        (v128.store (local.get $y) (local.get $r))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $kl)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl))))

  (func (export "gradSums") (param $dy i32) (param $x i32) (param $y i32) (param $n i32) (param $c i32)
        (param $acc i32) (param $relu i32)
    (local $p i32) (local $k i32) (local $a i32) (local $q i32) (local $cb i32)
    (local $g v128) (local $xv v128) (local $glo v128) (local $ghi v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 3)))
    (local.set $p (i32.const 0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $a (local.get $acc))
      (local.set $k (i32.const 0))
      (block $kd (loop $kl
        (br_if $kd (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $g (v128.load (local.get $dy)))
        (if (local.get $relu)
          (then (local.set $g (v128.and (local.get $g)
            (f32x4.gt (v128.load (local.get $y)) (f32x4.splat (f32.const 0)))))))
        (local.set $xv (v128.load (local.get $x)))
        (local.set $glo (f64x2.promote_low_f32x4 (local.get $g)))
        (local.set $ghi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g))))
        (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (local.get $glo)))
        (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a)) (local.get $ghi)))
        (local.set $q (i32.add (local.get $a) (local.get $cb)))
        (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q))
          (f64x2.mul (local.get $glo) (f64x2.promote_low_f32x4 (local.get $xv)))))
        (v128.store offset=16 (local.get $q) (f64x2.add (v128.load offset=16 (local.get $q))
          (f64x2.mul (local.get $ghi) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xv) (local.get $xv))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $kl)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl))))

  (func (export "gradWrite") (param $dy i32) (param $x i32) (param $y i32) (param $dx i32) (param $n i32)
        (param $c i32) (param $abc i32) (param $relu i32)
    (local $p i32) (local $k i32) (local $a i32) (local $cb i32) (local $g v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $p (i32.const 0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $a (local.get $abc))
      (local.set $k (i32.const 0))
      (block $kd (loop $kl
        (br_if $kd (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $g (v128.load (local.get $dy)))
        (if (local.get $relu)
          (then (local.set $g (v128.and (local.get $g)
            (f32x4.gt (v128.load (local.get $y)) (f32x4.splat (f32.const 0)))))))
        (v128.store (local.get $dx)
          (f32x4.add
            (f32x4.add
              (f32x4.mul (local.get $g) (v128.load (local.get $a)))
              (f32x4.mul (v128.load (local.get $x)) (v128.load (i32.add (local.get $a) (local.get $cb)))))
            (v128.load (i32.add (local.get $a) (i32.shl (local.get $cb) (i32.const 1))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $kl)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl))))
)
`;
