/**
 * The machine's wasm-SIMD arithmetic peak, measured: a hand-assembled WebAssembly loop of
 * independent f32x4 multiply and add chains (8 + 8 accumulators: with 6 + 6 the multiply chains
 * wait on latency, 38.5 against 43.4 GFLOP per CPU-second on the AMD EPYC here), or with `fma`
 * 16 chains of `f32x4.relaxed_madd` (needs relaxed SIMD: Node 20 with
 * --experimental-wasm-relaxed-simd). A core does 2 f32x4 FMA per cycle (16 flop/cycle), the
 * same as the brief's 2 mul + 2 add without FMA, so the FMA loop's rate / 16 is the clock and
 * its rate the peak. Run directly it prints {"muladd": GFLOP/CPU-s, "fma": GFLOP/CPU-s | null}.
 */
import { isMainThread } from "node:worker_threads";

const CHAINS = 8;
const UNROLL = 8;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
const f32 = (x: number): number[] => [...new Uint8Array(new Float32Array([x]).buffer)];
const simd = (op: number): number[] => [0xfd, ...leb(op)];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];

/**
 * A module exporting `k(iterations: i32) -> f32`. Each iteration runs UNROLL × (6 mul + 6 add)
 * f32x4 ops (mul+add mode) or UNROLL × 12 relaxed_madd ops (fma mode); `flopsPerIteration`
 * counts them.
 */
export function peakModule(fma: boolean): Uint8Array<ArrayBuffer> {
  const nAcc = 2 * CHAINS; // locals 1..12 accumulators, 13 = c, 14 = d
  const c = nAcc + 1;
  const d = nAcc + 2;
  const body: number[] = [];
  const setSplat = (local: number, value: number) => body.push(0x43, ...f32(value), ...simd(19), 0x21, ...leb(local));
  for (let i = 1; i <= nAcc; i++) setSplat(i, 1 + i / 64);
  setSplat(c, 1.0000001);
  setSplat(d, 1e-7);
  body.push(0x03, 0x40); // loop
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 1; i <= nAcc; i++) {
      if (fma) {
        // acc = acc * c + d
        body.push(0x20, ...leb(i), 0x20, ...leb(c), 0x20, ...leb(d), ...simd(261), 0x21, ...leb(i));
      } else if (i <= CHAINS) {
        body.push(0x20, ...leb(i), 0x20, ...leb(c), ...simd(230), 0x21, ...leb(i)); // mul chain
      } else {
        body.push(0x20, ...leb(i), 0x20, ...leb(d), ...simd(228), 0x21, ...leb(i)); // add chain
      }
    }
  }
  // counter -= 1; br_if counter != 0
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b);
  body.push(0x20, 1);
  for (let i = 2; i <= nAcc; i++) body.push(0x20, ...leb(i), ...simd(228));
  body.push(...simd(31), 0, 0x0b); // f32x4.extract_lane 0; end
  const func = [1, ...leb(d), 0x7b, ...body]; // one local group: d v128 locals (1..d)
  const code = [1, ...leb(func.length), ...func];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, 1, 0x6b, 0x00, 0]),
    ...section(10, code),
  ]);
}

/** Flops per loop iteration: every f32x4 mul or add is 4, every relaxed_madd 8. */
export function flopsPerIteration(fma: boolean): number {
  return UNROLL * 2 * CHAINS * (fma ? 8 : 4);
}

/** Whether this runtime validates relaxed-SIMD (`f32x4.relaxed_madd`). */
export function hasRelaxedSimd(): boolean {
  return WebAssembly.validate(peakModule(true));
}

/** Seconds of CPU time this process has used (user + system, all threads). */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function runLoop(fma: boolean, seconds: number): { flops: number; secs: number; cpuSecs: number } {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(peakModule(fma)));
  const k = inst.exports.k as (n: number) => number;
  k(100_000); // tier up
  let iters = 200_000;
  for (;;) {
    const c0 = cpuSeconds();
    const t0 = performance.now();
    k(iters);
    const dt = (performance.now() - t0) / 1000;
    const dc = cpuSeconds() - c0;
    if (dt >= seconds) return { flops: iters * flopsPerIteration(fma), secs: dt, cpuSecs: dc };
    iters = Math.ceil(iters * Math.min(10, (seconds * 1.2) / Math.max(dt, 1e-3)));
  }
}

/**
 * One core's peak in GFLOP per CPU-second: the loop on this thread, timed by the process's CPU
 * clock, so time the scheduler gives to other processes does not count (best of `reps`).
 */
export function measurePeakCpu(fma: boolean, reps = 3, seconds = 0.3): number {
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const m = runLoop(fma, seconds);
    best = Math.max(best, m.flops / m.cpuSecs / 1e9);
  }
  return best;
}

if (isMainThread && process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  console.log(JSON.stringify({ muladd: measurePeakCpu(false, 5), fma: hasRelaxedSimd() ? measurePeakCpu(true, 5) : null }));
}

