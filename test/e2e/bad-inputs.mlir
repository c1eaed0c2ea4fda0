// Bad inputs give one clear message, exit code 1 and no output file.
// RUN: rm -f %t.out.safetensors
// RUN: %python %S/Inputs/make_safetensors.py %t.shape.safetensors 'input.ids=i64:1x3:0'
// RUN: not tfx-run %s --inputs %t.shape.safetensors --output %t.out.safetensors 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not test -e %t.out.safetensors
// SHAPE: tfx-run: input 'ids': expected shape [1,2] (i64), got [1,3] (i64)

// RUN: %python %S/Inputs/make_safetensors.py %t.kind.safetensors 'input.ids=f32:1x2:0'
// RUN: not tfx-run %s --inputs %t.kind.safetensors 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: tfx-run: input 'ids': expected shape [1,2] (i64), got [1,2] (f32)

// RUN: %python %S/Inputs/make_safetensors.py %t.missing.safetensors 'input.other=i64:1x2:0'
// RUN: not tfx-run %s --inputs %t.missing.safetensors --output %t.out.safetensors 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not test -e %t.out.safetensors
// MISSING: note: the model takes no input 'other'
// MISSING: tfx-run: missing input 'ids' (expected tensor<1x2xi64>)

// RUN: not tfx-run %s --inputs %t.does-not-exist.safetensors 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: tfx-run: {{.*}}does-not-exist.safetensors

// RUN: %python %S/Inputs/make_safetensors.py %t.range.safetensors 'input.ids=i64:1x2:1,7'
// RUN: not tfx-run %s --inputs %t.range.safetensors --output %t.out.safetensors 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not test -e %t.out.safetensors
// RANGE: tfx-run: 'wte': 'tfx.embedding': embedding id 7 (element 1 of ids [1,2]) is out of range [0, 4)

// RUN: %python %S/Inputs/make_safetensors.py %t.ok.safetensors 'input.ids=i64:1x2:1,3'
// RUN: not tfx-run %s --inputs %t.ok.safetensors --backend gpu 2>&1 | FileCheck %s --check-prefix=BACKEND
// BACKEND: tfx-run: unknown --backend 'gpu' (supported: interp, cpu, cuda)

// RUN: not tfx-run %s --inputs %t.ok.safetensors --check %t.ok.safetensors 2>&1 | FileCheck %s --check-prefix=NOREF
// NOREF: holds no output.<name> tensors

// RUN: tfx-run --version | FileCheck %s --check-prefix=VERSION
// VERSION: tfx-run {{[0-9]+\.[0-9]+\.[0-9]+}}

func.func @main(%ids: tensor<1x2xi64> {tfx.name = "ids"}) -> (tensor<1x2x2xf32> {tfx.name = "h"}) {
  %table = arith.constant dense<[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32>
  %h = tfx.embedding %ids, %table : (tensor<1x2xi64>, tensor<4x2xf32>) -> tensor<1x2x2xf32> loc("wte")
  return %h : tensor<1x2x2xf32>
}
