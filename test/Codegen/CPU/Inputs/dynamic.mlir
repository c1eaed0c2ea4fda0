func.func @main(%x: tensor<?x16xf32> {tfx.name = "x"}) -> (tensor<?x16xf32> {tfx.name = "y"}) {
  %y = tfx.relu %x : tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
