// A 2x4 CSR weight whose second row names column 7 of a 4-wide weight.
module {
func.func @main(%x: tensor<1x4xf32> {tfx.name = "x"}) -> (tensor<1x2xf32> {tfx.name = "y"}) {
  %values = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %columns = arith.constant dense<[0, 2, 7]> : tensor<3xi16>
  %offsets = arith.constant dense<[0, 2, 3]> : tensor<3xi32>
  %w = tfx.sparse_csr %values, %columns, %offsets : (tensor<3xf32>, tensor<3xi16>, tensor<3xi32>) -> tensor<2x4xf32>
  %y = tfx.linear %x, %w : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
}
