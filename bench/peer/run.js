// The peer's timing: ONNX Runtime (npm onnxruntime-node, CPU execution provider) runs the model of
// make_model.py on random float32 Q, K, V of shape (1, N, D). Only session.run is timed: warm-up runs first,
// then runs until MIN_SECONDS are measured (at least 5); prints one JSON line with the median, by wall time
// and by the process's CPU time (every thread; less disturbed on a shared machine).
// Usage: node run.js MODEL.onnx N D THREADS [MIN_SECONDS]
'use strict';
const ort = require('onnxruntime-node');

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const k = Math.floor(v.length / 2);
  return v.length % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

async function main() {
  const [model, nText, dText, threadsText, minText] = process.argv.slice(2);
  const n = Number(nText), d = Number(dText), threads = Number(threadsText), minSeconds = Number(minText || 2);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  // A fixed-seed generator (xorshift32) of N(0, 1) entries by Box-Muller, like attnviz bench's unit variance.
  let state = 2463534242;
  const uniform = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return (state + 0.5) / 4294967296; };
  const tensor = () => {
    const data = new Float32Array(n * d);
    for (let i = 0; i < data.length; ++i) data[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return new ort.Tensor('float32', data, [1, n, d]);
  };
  const feeds = { query: tensor(), key: tensor(), value: tensor() };
  for (let i = 0; i < 3; ++i) await session.run(feeds);  // warm-up
  const times = [], cpuTimes = [];
  let total = 0;
  while (times.length < 5 || (total < minSeconds && times.length < 200)) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    await session.run(feeds);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    times.push(seconds);
    cpuTimes.push((cpu.user + cpu.system) / 1e6);  // every thread of the process
    total += seconds;
  }
  const causal = model.includes('causal');
  const flops = 4 * n * n * d * (causal ? 0.5 : 1);
  const s = median(times);
  console.log(JSON.stringify({ peer: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`, op: 'com.microsoft.MultiHeadAttention',
    n, d, threads, causal, runs: times.length, seconds_median: s, seconds_min: Math.min(...times), gflops: flops / s / 1e9,
    cpu_seconds_median: median(cpuTimes), gflops_cpu: flops / median(cpuTimes) / 1e9 }));
}

main().catch((e) => { console.error(`peer: ${e.message}`); process.exit(1); });
