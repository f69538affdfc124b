/**
 * Inference forward passes run layer by layer: each layer's pending work runs before the next
 * layer is recorded, so a pass holds one layer's intermediates instead of all of them.
 *
 * jax-js is lazy: an operation allocates its output when it is recorded and keeps its inputs
 * until the graph runs, which happens when a result is read. An eager forward pass over L
 * layers therefore held every layer's intermediates at once until its logits were read
 * (`propetl predict`, batch 64 on propetl-mini: 2.2 GB max RSS; bench/RESULTS.md). Here, after
 * each layer, `settle` awaits the layer output's `blockUntilReady()`: its pending kernels are
 * submitted (to the worker pool when there is one, else run on the calling thread) and, once
 * they have run, the buffers they held are released before the next layer starts.
 *
 * Awaiting, rather than jax-js's synchronous `dataSync`, is what makes this safe with a worker
 * pool: a synchronous dispatch is refused while the pool still computes one of its inputs
 * ("cannot dispatch synchronously with pending async work"), and it would run on the main
 * thread alone. The price is that the pass is async: training (gradients) and `jit` need a
 * traceable, synchronous function and keep the sync forward (`encode`, `t5Encode`), whose
 * values there are tracers that jax-js runs as one graph anyway.
 *
 * Callers must not dispose, from elsewhere, an array a pass still needs while it awaits
 * (parameters, hooks' modules): serve runs device work one piece at a time for this reason.
 */
import { JaxArray } from "./jax.js";
import type { JArray } from "./jax.js";

/**
 * Wait until `x`'s pending work has run and the intermediates it held are freed. `x` is
 * borrowed and stays usable. Only concrete arrays: a tracer (inside `jit`, `grad`) is an error,
 * since a traced function cannot await.
 */
export async function settle(x: JArray): Promise<void> {
  if (!(x instanceof JaxArray)) throw new TypeError("settle: expected a concrete array, got a tracer (a layer-by-layer forward cannot run inside jit or grad; use the synchronous forward there)");
  await x.blockUntilReady();
}

/**
 * Run `layers` layers over `h` (consumed; the embeddings), settling it and then each layer's
 * output: `layer(x, i)` consumes its input and returns layer i's output, the same per-layer
 * function the synchronous forward loops over. Returns the last output (owned).
 */
export async function runLayersSettled(h: JArray, layers: number, layer: (x: JArray, i: number) => JArray): Promise<JArray> {
  for (let i = 0; i <= layers; i++) {
    if (i > 0) h = layer(h, i - 1);
    try {
      await settle(h);
    } catch (e) {
      h.dispose();
      throw e;
    }
  }
  return h;
}
