// Every kind of tfx op the lowering handles outside the kernels, on small
// shapes, for comparison with the reference interpreter.
func.func @main(%x: tensor<2x3x8xf32> {tfx.name = "x"}, %ids: tensor<2x3xi64> {tfx.name = "ids"},
                %flags: tensor<2x3x8xi1> {tfx.name = "flags"}, %pos: tensor<2x3xi64> {tfx.name = "pos"})
    -> (tensor<2x3x8xf32> {tfx.name = "unary"}, tensor<2x3x8xf32> {tfx.name = "binary"},
        tensor<2x3x8xf32> {tfx.name = "select"}, tensor<2x3x8xi64> {tfx.name = "casts"},
        tensor<3x2x8xf32> {tfx.name = "moved"}, tensor<2x6x8xf32> {tfx.name = "joined"},
        tensor<2x3x8xf32> {tfx.name = "gathered"}, tensor<2x1x8xf32> {tfx.name = "reduced"},
        tensor<2x3xi64> {tfx.name = "int_reduced"}, tensor<2x3x8xf32> {tfx.name = "norms"},
        tensor<2x3x8xf32> {tfx.name = "roped"}, tensor<2x3x8xf32> {tfx.name = "softmax1"},
        tensor<2x3x4xf32> {tfx.name = "matmul"}, tensor<2x3x8xi1> {tfx.name = "logic"}) {
  %half = arith.constant dense<0.5> : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<1xf32>
  %row = arith.constant dense<[0.5, -1.0, 2.0, 0.0, 1.5, -0.25, 3.0, -2.0]> : tensor<8xf32>
  %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0], [0.5, 0.25, 0.125, 0.0625, 1.0, 2.0, 4.0, 8.0], [9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0]]> : tensor<4x8xf32>
  %a = tfx.abs %x : tensor<2x3x8xf32>
  %s = tfx.sqrt %a : tensor<2x3x8xf32>
  %e = tfx.exp %x : tensor<2x3x8xf32>
  %l = tfx.log %e : tensor<2x3x8xf32>
  %t = tfx.tanh %l : tensor<2x3x8xf32>
  %sg = tfx.sigmoid %x : tensor<2x3x8xf32>
  %si = tfx.silu %x : tensor<2x3x8xf32>
  %er = tfx.erf %x : tensor<2x3x8xf32>
  %ge = tfx.gelu %x {approximate = #tfx<gelu_approx tanh>} : tensor<2x3x8xf32>
  %c = tfx.cos %x : tensor<2x3x8xf32>
  %sn = tfx.sin %x : tensor<2x3x8xf32>
  %rs = tfx.rsqrt %e : tensor<2x3x8xf32>
  %rc = tfx.reciprocal %e : tensor<2x3x8xf32>
  %u1 = tfx.add %s, %t : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u2 = tfx.add %u1, %sg : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u3 = tfx.sub %u2, %si : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u4 = tfx.mul %u3, %er : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u5 = tfx.add %u4, %ge : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u6 = tfx.add %u5, %c : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u7 = tfx.sub %u6, %sn : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %u8 = tfx.add %u7, %rs : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %unary = tfx.add %u8, %rc : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %b1 = tfx.pow %x, %two : (tensor<2x3x8xf32>, tensor<1xf32>) -> tensor<2x3x8xf32>
  %b2 = tfx.div %b1, %e : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %b3 = tfx.max %b2, %row : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %b4 = tfx.min %b3, %half : (tensor<2x3x8xf32>, tensor<f32>) -> tensor<2x3x8xf32>
  %ex = tfx.pow %a, %row : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %binary = tfx.add %b4, %ex : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %gt = tfx.greater %x, %row : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xi1>
  %n = tfx.neg %x : tensor<2x3x8xf32>
  %select = tfx.where %gt, %x, %n : (tensor<2x3x8xi1>, tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %scaled = tfx.mul %x, %row : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %i = tfx.cast %scaled : tensor<2x3x8xf32> -> tensor<2x3x8xi64>
  %i32 = tfx.cast %i : tensor<2x3x8xi64> -> tensor<2x3x8xi32>
  %fromBool = tfx.cast %flags : tensor<2x3x8xi1> -> tensor<2x3x8xi64>
  %back = tfx.cast %i32 : tensor<2x3x8xi32> -> tensor<2x3x8xi64>
  %three = arith.constant dense<3> : tensor<1xi64>
  %q = tfx.div %back, %three : (tensor<2x3x8xi64>, tensor<1xi64>) -> tensor<2x3x8xi64>
  %casts = tfx.add %q, %fromBool : (tensor<2x3x8xi64>, tensor<2x3x8xi64>) -> tensor<2x3x8xi64>
  %moved = tfx.transpose %x, [1, 0, 2] : tensor<2x3x8xf32> -> tensor<3x2x8xf32>
  %joined = tfx.concat %x, %select {axis = 1 : i64} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x6x8xf32>
  %g0 = tfx.gather %table, %ids {axis = 0 : i64} : (tensor<4x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  %sl = tfx.slice %joined {offsets = array<i64: 0, 1, 0>, sizes = array<i64: 2, 3, 8>, strides = array<i64: 1, 1, 1>} : tensor<2x6x8xf32> -> tensor<2x3x8xf32>
  %gathered = tfx.add %g0, %sl : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %r1 = tfx.reduce #tfx<reduce_kind mean> %x {axes = array<i64: 1>} : tensor<2x3x8xf32> -> tensor<2x1x8xf32>
  %r2 = tfx.reduce #tfx<reduce_kind max> %x {axes = array<i64: 1>} : tensor<2x3x8xf32> -> tensor<2x1x8xf32>
  %reduced = tfx.add %r1, %r2 : (tensor<2x1x8xf32>, tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %int_reduced = tfx.reduce #tfx<reduce_kind sum> %casts {axes = array<i64: 2>, keepdims = false} : tensor<2x3x8xi64> -> tensor<2x3xi64>
  %gamma = arith.constant dense<[1.0, 1.5, 0.5, 2.0, 1.0, 1.0, 0.25, 3.0]> : tensor<8xf32>
  %beta = arith.constant dense<[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]> : tensor<8xf32>
  %ln = tfx.layer_norm %x, %gamma, %beta {epsilon = 1.0e-05 : f32} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %rms = tfx.rms_norm %x, %gamma {epsilon = 1.0e-06 : f32} : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %norms = tfx.add %ln, %rms : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %ro1 = tfx.rope %x {num_heads = 2 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %ro2 = tfx.rope %x, %pos {num_heads = 1 : i64, rotary_dim = 6 : i64, theta = 500.0 : f64, layout = #tfx<rope_layout interleaved>} : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  %roped = tfx.add %ro1, %ro2 : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %softmax1 = tfx.softmax %x {axis = 1 : i64} : tensor<2x3x8xf32>
  %w = arith.constant dense<[[1.0, 0.0, 2.0, -1.0], [0.5, 0.5, 0.5, 0.5], [1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0], [2.0, -2.0, 1.0, -1.0], [1.0, 1.0, 1.0, 1.0], [0.25, 0.5, 0.75, 1.0], [3.0, 0.0, -3.0, 0.0]]> : tensor<8x4xf32>
  %matmul = tfx.matmul %x, %w : (tensor<2x3x8xf32>, tensor<8x4xf32>) -> tensor<2x3x4xf32>
  %nf = tfx.not %flags : tensor<2x3x8xi1>
  %nan = tfx.is_nan %l : tensor<2x3x8xf32> -> tensor<2x3x8xi1>
  %le = tfx.less_equal %casts, %fromBool : (tensor<2x3x8xi64>, tensor<2x3x8xi64>) -> tensor<2x3x8xi1>
  %o1 = tfx.or %nf, %nan : (tensor<2x3x8xi1>, tensor<2x3x8xi1>) -> tensor<2x3x8xi1>
  %logic = tfx.and %o1, %le : (tensor<2x3x8xi1>, tensor<2x3x8xi1>) -> tensor<2x3x8xi1>
  return %unary, %binary, %select, %casts, %moved, %joined, %gathered, %reduced, %int_reduced, %norms, %roped, %softmax1, %matmul, %logic
      : tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xi64>, tensor<3x2x8xf32>, tensor<2x6x8xf32>, tensor<2x3x8xf32>, tensor<2x1x8xf32>, tensor<2x3xi64>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x8xi1>
}
