// Rows of x go through a linear layer, layer norm, GELU and softmax
// independently: a NaN or Inf in one row reaches only that row's outputs.
func.func @main(%x: tensor<3x4xf32> {tfx.name = "x"}) -> (tensor<3x4xf32> {tfx.name = "y"}) {
  %w = arith.constant dense<[[0.5, -1.0, 0.25, 2.0], [1.0, 0.0, -0.5, 0.75], [-0.25, 0.5, 1.5, -1.0], [0.125, 0.25, 0.5, 1.0]]> : tensor<4x4xf32>
  %b = arith.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %g = arith.constant dense<[1.0, 0.5, 2.0, 1.5]> : tensor<4xf32>
  %h = tfx.linear %x, %w, %b : (tensor<3x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %n = tfx.layer_norm %h, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %a = tfx.gelu %n {approximate = #tfx<gelu_approx tanh>} : tensor<3x4xf32>
  %y = tfx.softmax %a {axis = 1 : i64} : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
