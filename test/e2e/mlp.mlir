// A two-layer MLP with constant weights: printed values, --check against a
// hand-computed reference (passing and failing), and --output round trip.
// RUN: %python %S/Inputs/make_safetensors.py %t.in.safetensors 'input.x=f32:1x2:1,2'
// RUN: tfx-run %s --inputs %t.in.safetensors | FileCheck %s --check-prefix=SUMMARY
// RUN: tfx-run %s --inputs %t.in.safetensors --print | FileCheck %s --check-prefix=PRINT
// RUN: %python %S/Inputs/make_safetensors.py %t.ref.safetensors 'output.y=f32:1x2:5.5,16.5' 'output.hidden=f32:1x2:5.5,-9'
// RUN: tfx-run %s --inputs %t.in.safetensors --check %t.ref.safetensors | FileCheck %s --check-prefix=OK
// RUN: %python %S/Inputs/make_safetensors.py %t.bad.safetensors 'output.y=f32:1x2:5.5,16.6' 'output.hidden=f32:1x2:5.5,-9'
// RUN: not tfx-run %s --inputs %t.in.safetensors --check %t.bad.safetensors --rtol 1e-3 --atol 0 | FileCheck %s --check-prefix=BAD
// RUN: rm -f %t.out.safetensors
// RUN: tfx-run %s --inputs %t.in.safetensors --output %t.out.safetensors
// RUN: tfx-run %s --inputs %t.in.safetensors --check %t.out.safetensors --rtol 0 --atol 0 | FileCheck %s --check-prefix=SELF

// SUMMARY: time {{[0-9.]+}} ms
// SUMMARY-DAG: output.hidden: f32 [1,2] [5.5, -9]
// SUMMARY-DAG: output.y: f32 [1,2] [5.5, 16.5]

// PRINT: output.y: f32 [1,2] [5.5, 16.5]

// OK: output.hidden: max_abs_err=0.000e+00 max_rel_err=0.000e+00 (rtol=0.0001 atol=1e-05) OK
// OK: output.y: max_abs_err=0.000e+00 max_rel_err=0.000e+00 (rtol=0.0001 atol=1e-05) OK

// BAD: output.hidden: {{.*}} OK
// BAD: output.y: max_abs_err=1.000e-01 max_rel_err=6.024e-03 (rtol=0.001 atol=0) FAIL

// SELF: output.hidden: {{.*}} OK
// SELF: output.y: {{.*}} OK

func.func @main(%x: tensor<1x2xf32> {tfx.name = "x"})
    -> (tensor<1x2xf32> {tfx.name = "y"}, tensor<1x2xf32> {tfx.name = "hidden"}) {
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b1 = arith.constant dense<[0.5, -20.0]> : tensor<2xf32>
  %h = tfx.linear %x, %w1, %b1 : (tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %r = tfx.relu %h : tensor<1x2xf32>
  %y = tfx.linear %r, %w1 : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y, %h : tensor<1x2xf32>, tensor<1x2xf32>
}
