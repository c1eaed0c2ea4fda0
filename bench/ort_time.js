// Times ONNX Runtime (onnxruntime-node, CPU) on one model:
//   node ort_time.js MODEL.onnx THREADS RUNS [SEQ]
// Feeds input_ids (deterministic ids) and an all-ones attention_mask of
// [1, SEQ], or for a model with inputs a and b (a GEMM microbenchmark) two
// [SEQ, SEQ] f32 matrices; prints one JSON line {"threads", "median_ms",
// "min_ms"}.
// NODE_PATH must name the node_modules folder holding onnxruntime-node.
const ort = require('onnxruntime-node');

async function main() {
  const [model, threadsArg, runsArg, seqArg] = process.argv.slice(2);
  const threads = Number(threadsArg || 1), runs = Number(runsArg || 15);
  const seq = Number(seqArg || 128);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const ids = new BigInt64Array(seq), mask = new BigInt64Array(seq).fill(1n);
  for (let k = 0; k < seq; ++k) ids[k] = BigInt((k * 7919) % 30522);
  const matrix = () => {
    const values = new Float32Array(seq * seq);
    for (let k = 0; k < values.length; ++k) values[k] = ((k * 37) % 101) / 101;
    return new ort.Tensor('float32', values, [seq, seq]);
  };
  const all = {
    input_ids: new ort.Tensor('int64', ids, [1, seq]),
    attention_mask: new ort.Tensor('int64', mask, [1, seq]),
  };
  if (session.inputNames.includes('a')) {
    all.a = matrix();
    all.b = matrix();
  }
  const feeds = {};
  for (const name of session.inputNames) {
    if (!(name in all)) throw new Error(`unexpected model input '${name}'`);
    feeds[name] = all[name];
  }
  for (let k = 0; k < 3; ++k) await session.run(feeds);
  const times = [];
  for (let k = 0; k < runs; ++k) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  console.log(JSON.stringify({ threads, median_ms: median, min_ms: times[0] }));
}

main().catch((err) => {
  console.error(`ort_time.js: ${err.message}`);
  process.exit(1);
});
