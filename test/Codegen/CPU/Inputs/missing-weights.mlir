module attributes {tfx.weights = "/nonexistent/weights.safetensors"} {
func.func @main(%x: tensor<4x16xf32> {tfx.name = "x"}) -> (tensor<4x16xf32> {tfx.name = "y"}) {
  %w = tfx.weight "w" : tensor<16x16xf32>
  %y = tfx.linear %x, %w : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
}
