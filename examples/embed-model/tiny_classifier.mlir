// A tiny token classifier for the embedding example: embedding (8 ids x 4),
// layer norm, linear + tanh-GELU, linear to 3 classes, softmax.
func.func @main(%ids: tensor<1x4xi64> {tfx.name = "ids"}) -> (tensor<1x4x3xf32> {tfx.name = "probs"}) {
  %table = arith.constant dense<[[0.0, 0.78, 0.97, 0.43], [0.99, 0.52, -0.35, -0.95],
                                 [-0.26, -0.92, -0.88, -0.18], [-0.93, -0.28, 0.58, 1.0],
                                 [0.49, 0.99, 0.73, -0.08], [0.8, 0.02, -0.77, -0.98],
                                 [-0.7, -0.99, -0.54, 0.33], [-0.62, 0.23, 0.91, 0.89]]> : tensor<8x4xf32>
  %gamma = arith.constant dense<[1.0, 0.5, 2.0, 1.5]> : tensor<4xf32>
  %beta = arith.constant dense<[0.0, 0.1, -0.1, 0.2]> : tensor<4xf32>
  %w1 = arith.constant dense<[[0.5, -0.25, 0.75, 0.1], [-0.5, 0.25, 0.3, -0.2],
                              [0.2, 0.4, -0.6, 0.8], [0.9, -0.7, 0.05, 0.15]]> : tensor<4x4xf32>
  %b1 = arith.constant dense<[0.1, -0.1, 0.05, 0.0]> : tensor<4xf32>
  %w2 = arith.constant dense<[[1.0, -1.0, 0.5, 0.25], [-0.5, 0.75, 1.0, -0.25],
                              [0.3, 0.3, -0.9, 0.6]]> : tensor<3x4xf32>
  %b2 = arith.constant dense<[0.0, 0.2, -0.2]> : tensor<3xf32>
  %x = tfx.embedding %ids, %table : (tensor<1x4xi64>, tensor<8x4xf32>) -> tensor<1x4x4xf32>
  %n = tfx.layer_norm %x, %gamma, %beta {epsilon = 1.0e-05 : f32} : (tensor<1x4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4xf32>
  %h = tfx.linear %n, %w1, %b1 : (tensor<1x4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<1x4x4xf32>
  %g = tfx.gelu %h {approximate = #tfx<gelu_approx tanh>} : tensor<1x4x4xf32>
  %l = tfx.linear %g, %w2, %b2 : (tensor<1x4x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<1x4x3xf32>
  %p = tfx.softmax %l : tensor<1x4x3xf32>
  return %p : tensor<1x4x3xf32>
}
