// Weights held in dense_resource blobs, as compression passes write them:
// a linear weight and bias (f32) and an i32 index table.
func.func @main(%x: tensor<1x3xf32> {tfx.name = "x"}) -> (tensor<1x2xf32> {tfx.name = "y"}) {
  %w = arith.constant dense_resource<fc.weight> : tensor<4x3xf32>
  %b = arith.constant dense_resource<fc.bias> : tensor<4xf32>
  %i = arith.constant dense_resource<picked> : tensor<2xi32>
  %0 = tfx.linear %x, %w, %b : (tensor<1x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<1x4xf32>
  %1 = tfx.gather %0, %i {axis = 1 : i64} : (tensor<1x4xf32>, tensor<2xi32>) -> tensor<1x2xf32>
  return %1 : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      fc.weight: "0x040000000000803F0000000000000000000000000000803F0000000000000000000000000000803F0000803F0000803F0000803F",
      fc.bias: "0x040000000000003F0000003F0000003F0000003F",
      picked: "0x040000000300000000000000"
    }
  }
#-}
