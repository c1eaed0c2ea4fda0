// A linear layer with a GELU epilogue, for the cuda pipeline tests.
module attributes {tfx.weights = "unused.safetensors"} {
func.func @main(%x: tensor<2x8x64xf32> {tfx.name = "x"}) -> (tensor<2x8x32xf32> {tfx.name = "y"}) {
  %w = tfx.weight "fc.weight" : tensor<32x64xf32>
  %b = tfx.weight "fc.bias" : tensor<32xf32>
  %y = tfx.linear %x, %w, %b : (tensor<2x8x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %g = tfx.gelu %y : tensor<2x8x32xf32>
  return %g : tensor<2x8x32xf32>
}
}
