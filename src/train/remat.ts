/**
 * Loss and gradient of a layer stack with per-layer rematerialisation: the training step's
 * memory is one layer's work plus each layer's input, instead of the whole network's.
 *
 * `valueAndGrad` over a whole forward pass keeps every residual of every layer (and, jax-js
 * being lazy, every intermediate still waiting to run) until the backward pass reads them.
 * Here the frozen stack runs forward keeping only each layer's input hidden state, waiting for
 * each layer's work (`blockUntilReady`) so that its intermediates are freed before the next
 * layer is recorded. The head and loss are one `vjp`. Then, from the top, layer i is run again
 * under `vjp` with respect to (its input, the trainable tree), the incoming cotangent is pulled
 * back, the trainable gradients are summed over layers (a prototype shared by every layer gets
 * the sum of its layers' gradients; layer 0 is pulled back w.r.t. the trainable tree alone, as
 * the stack's input needs no cotangent), and the layer's work is awaited and freed before layer
 * i − 1. The cost is one more forward pass of the stack; the result equals `valueAndGrad` of
 * the same loss up to float rounding (test/train/remat.test.ts).
 *
 * The waits need the engine's pending work to run on its own (worker pool or main thread),
 * which `await blockUntilReady` allows where a synchronous read would be refused (see
 * bench/RESULTS.md, "Inference memory"). Hence the function is async and cannot run under jit.
 */
import { blockUntilReady, np, tree, vjp } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { runLayersSettled } from "../engine/layer-by-layer.js";

/** A stack of layers between a frozen input and a loss head, for `rematValueAndGrad`. */
export interface RematStack<M, H> {
  /** Number of layers. */
  layers: number;
  /** The stack's input (owned by the caller afterwards); no gradient flows into it. */
  input(): JArray;
  /**
   * Layer i: `x` is consumed, `method` (the trainable tree, possibly traced) is BORROWED.
   * Must compute exactly what the full forward pass computes for that layer.
   */
  layer(i: number, x: JArray, method: M): JArray;
  /** The scalar loss from the last layer's output (consumed) and the head tree (borrowed). */
  loss(h: JArray, head: H): JArray;
}

/** The trainable tree of a stack: the method's tree and the head's. */
export type RematParams<M, H> = { method: M; head: H };

const add = (a: JArray, b: JArray): JArray => a.add(b);

/** A pullback of f(x, t) at a point: the cotangents of x and of the tree t; `dispose` frees its residuals. */
type Pullback<T> = ((ct: JArray) => [JArray, T]) & { dispose(): void };

/** `vjp` of f(x, t) → array, typed for this file (consumes `x` and `t`). */
function vjpOf<T>(f: (x: JArray, t: T) => JArray, x: JArray, t: T): [JArray, Pullback<T>] {
  return (vjp as unknown as (fn: unknown, primals: unknown[]) => [JArray, Pullback<T>])(f, [x, t]);
}

/** `vjp` of f(t) → array (consumes `t`): the pullback gives the cotangent of t alone. */
function vjpOf1<T>(f: (t: T) => JArray, t: T): [JArray, ((ct: JArray) => [T]) & { dispose(): void }] {
  return (vjp as unknown as (fn: unknown, primals: unknown[]) => [JArray, ((ct: JArray) => [T]) & { dispose(): void }])(f, [t]);
}

/**
 * The loss and its gradient w.r.t. `params` (CONSUMED), layer by layer (see the file comment).
 * Returns an owned loss and gradient tree shaped like `params`.
 */
export async function rematValueAndGrad<M, H>(stack: RematStack<M, H>, params: RematParams<M, H>): Promise<[JArray, RematParams<M, H>]> {
  if (!(Number.isInteger(stack.layers) && stack.layers >= 1)) throw new RangeError(`rematValueAndGrad: a stack needs at least one layer, got ${stack.layers}`);
  const inputs: JArray[] = [];
  let h: JArray | null = null;
  let gMethod: M | null = null;
  let ct: JArray | null = null;
  let loss: JArray | null = null;
  let gHead: H | null = null;
  try {
    // Forward: keep each layer's input, run each layer's work before recording the next.
    h = await runLayersSettled(stack.input(), stack.layers, (x, i) => {
      inputs.push(x.ref);
      return stack.layer(i, x, params.method);
    });
    // Head and loss.
    const headFn = (hL: JArray, head: H): JArray => {
      const loss = stack.loss(hL, head);
      tree.dispose(head as never);
      return loss;
    };
    const top: JArray = h;
    h = null;
    const [value, headBack] = vjpOf(headFn, top, tree.ref(params.head as never) as H);
    loss = value;
    const [ctTop, gh] = headBack(np.onesLike(loss.ref));
    headBack.dispose();
    ct = ctTop;
    gHead = gh;
    await blockUntilReady([loss, ctTop, gh] as never);
    // Backward, from the top layer down.
    for (let i = stack.layers - 1; i >= 0; i--) {
      const layerFn = (x: JArray, m: M): JArray => {
        const y = stack.layer(i, x, m);
        tree.dispose(m as never);
        return y;
      };
      const x = inputs.pop() as JArray;
      if (i === 0) {
        // The stack's input gets no gradient: layer 0 is pulled back w.r.t. the trainable tree
        // alone (x a constant), so none of its input-gradient work (a layer's dx matmuls,
        // attention and norms) runs.
        const [out, back] = vjpOf1((m: M) => layerFn(x.ref, m), tree.ref(params.method as never) as M);
        x.dispose();
        await out.blockUntilReady();
        out.dispose();
        const pulled = ct as JArray;
        ct = null;
        const [g] = back(pulled);
        back.dispose();
        gMethod = gMethod === null ? g : (tree.map(add as never, gMethod as never, g as never) as M);
        await blockUntilReady(gMethod as never);
        continue;
      }
      const [out, back] = vjpOf(layerFn, x, tree.ref(params.method as never) as M);
      await out.blockUntilReady();
      out.dispose();
      const pulled = ct as JArray;
      ct = null; // consumed by the pullback, whatever happens
      const [ctIn, g]: [JArray, M] = back(pulled);
      back.dispose();
      ct = ctIn;
      gMethod = gMethod === null ? g : (tree.map(add as never, gMethod as never, g as never) as M);
      await blockUntilReady([ctIn, gMethod] as never);
    }
    (ct as JArray | null)?.dispose();
    ct = null;
    return [loss, { method: gMethod as M, head: gHead }];
  } catch (e) {
    (h as JArray | null)?.dispose();
    for (const x of inputs) x.dispose();
    if (ct) ct.dispose();
    if (gMethod) tree.dispose(gMethod as never);
    if (gHead) tree.dispose(gHead as never);
    if (loss) loss.dispose();
    throw e;
  } finally {
    tree.dispose(params as never);
  }
}
