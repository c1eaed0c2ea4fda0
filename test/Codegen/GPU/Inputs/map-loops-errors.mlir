// Host code cannot touch device memory: what the pass cannot put in a
// kernel is an error that names the op.
module {
  func.func @main(%env: !llvm.ptr, %weights: memref<?xi8>, %scratch: memref<?xi8>,
                  %x: memref<4xf32>) -> i32
      attributes {tfx.entry = {name = "main", inputs = [], outputs = []}} {
    %c0 = arith.constant 0 : index
    %one = arith.constant 1.0 : f32
    // expected-error @below {{cannot run on the GPU: this op is left on the host}}
    memref.store %one, %x[%c0] : memref<4xf32>
    %z = arith.constant 0 : i32
    return %z : i32
  }
}

// -----

module {
  // expected-error @below {{the cuda target supports entry functions only}}
  func.func @helper(%x: memref<4xf32>) {
    return
  }
}
