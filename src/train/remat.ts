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
 *
 * `rematEncoderDecoderValueAndGrad` does the same over an encoder–decoder (T5): both stacks
 * block by block, the encoder output's cotangent summed over the decoder blocks that read it,
 * and the loss head optionally in row chunks.
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
 * Pull a cotangent back through layers n − 1 … 0 of a stack from the top: layer i runs again
 * under `vjp` w.r.t. (its kept input, the tree `t`), and the tree's cotangents are summed over
 * the layers. Layer 0 is pulled back w.r.t. the tree alone: the stack's input (frozen
 * embeddings, in every stack here) needs no cotangent, so none of layer 0's input-gradient
 * work (its dx matmuls, attention and norms) runs. `inputs` (layer i's input at index i) are
 * consumed as they are used, `ct` is consumed, `t` is borrowed, `layer(i, x, t)` consumes x
 * and borrows t. Each layer's work is awaited and its pullback freed before the layer below.
 * Returns the summed tree cotangent (owned); on an error, what it owns is freed (the
 * remaining `inputs` stay the caller's).
 */
async function pullBackLayers<T>(inputs: JArray[], ct: JArray, t: T, layer: (i: number, x: JArray, t: T) => JArray): Promise<T> {
  let cur: JArray | null = ct;
  let sum: T | null = null;
  const accumulate = (g: T): T => (sum === null ? g : (tree.map(add as never, sum as never, g as never) as T));
  try {
    for (let i = inputs.length - 1; i >= 0; i--) {
      const layerFn = (x: JArray, tt: T): JArray => {
        const y = layer(i, x, tt);
        tree.dispose(tt as never);
        return y;
      };
      const x = inputs.pop() as JArray;
      if (i === 0) {
        const [out, back] = vjpOf1((tt: T) => layerFn(x.ref, tt), tree.ref(t as never) as T);
        x.dispose();
        await out.blockUntilReady();
        out.dispose();
        const pulled: JArray = cur as JArray;
        cur = null; // consumed by the pullback, whatever happens
        const [g] = back(pulled);
        back.dispose();
        sum = accumulate(g);
        await blockUntilReady(sum as never);
        continue;
      }
      const [out, back] = vjpOf(layerFn, x, tree.ref(t as never) as T);
      await out.blockUntilReady();
      out.dispose();
      const pulled: JArray = cur as JArray;
      cur = null; // consumed by the pullback, whatever happens
      const [ctIn, g]: [JArray, T] = back(pulled);
      back.dispose();
      cur = ctIn;
      sum = accumulate(g);
      await blockUntilReady([ctIn, sum] as never);
    }
    if (sum === null) throw new RangeError("pullBackLayers: no layers");
    return sum;
  } catch (e) {
    (cur as JArray | null)?.dispose();
    if (sum !== null) tree.dispose(sum as never);
    throw e;
  }
}

/** Run `layers` layers forward from `x0` (consumed), settling each output and keeping each layer's input (pushed onto `inputs`). */
function forwardKeepingInputs(x0: JArray, layers: number, inputs: JArray[], layer: (i: number, x: JArray) => JArray): Promise<JArray> {
  return runLayersSettled(x0, layers, (x, i) => {
    inputs.push(x.ref);
    return layer(i, x);
  });
}

/**
 * The loss and its gradient w.r.t. `params` (CONSUMED), layer by layer (see the file comment).
 * Returns an owned loss and gradient tree shaped like `params`.
 */
export async function rematValueAndGrad<M, H>(stack: RematStack<M, H>, params: RematParams<M, H>): Promise<[JArray, RematParams<M, H>]> {
  if (!(Number.isInteger(stack.layers) && stack.layers >= 1)) throw new RangeError(`rematValueAndGrad: a stack needs at least one layer, got ${stack.layers}`);
  const inputs: JArray[] = [];
  let h: JArray | null = null;
  let ct: JArray | null = null;
  let loss: JArray | null = null;
  let gHead: H | null = null;
  try {
    // Forward: keep each layer's input, run each layer's work before recording the next.
    h = await forwardKeepingInputs(stack.input(), stack.layers, inputs, (i, x) => stack.layer(i, x, params.method));
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
    const pulled: JArray = ct;
    ct = null;
    const gMethod = await pullBackLayers(inputs, pulled, params.method, (i, x, m) => stack.layer(i, x, m));
    return [loss, { method: gMethod, head: gHead }];
  } catch (e) {
    (h as JArray | null)?.dispose();
    for (const x of inputs) x.dispose();
    if (ct) ct.dispose();
    if (gHead) tree.dispose(gHead as never);
    if (loss) loss.dispose();
    throw e;
  } finally {
    tree.dispose(params as never);
  }
}

/**
 * An encoder–decoder between frozen inputs and a frozen loss head, for
 * `rematEncoderDecoderValueAndGrad`: the encoder's blocks, its frozen output map (a final
 * norm), then the decoder's blocks, each of which also reads the encoder output.
 */
export interface RematEncoderDecoder<M> {
  /** Number of encoder blocks (at least one). */
  encoderLayers: number;
  /** Number of decoder blocks (at least one). */
  decoderLayers: number;
  /** The encoder's input (owned by the caller afterwards); no gradient flows into it. */
  encoderInput(): JArray;
  /** Encoder block i: `x` consumed, `method` BORROWED. Exactly what the full forward pass computes. */
  encoderLayer(i: number, x: JArray, method: M): JArray;
  /** The encoder output from the last encoder block's output (consumed); frozen (no trainable input). */
  encoderOutput(h: JArray): JArray;
  /** The decoder's input (owned by the caller afterwards); no gradient flows into it. */
  decoderInput(): JArray;
  /** Decoder block j: `y` consumed; `encoderStates` (the encoder output) and `method` BORROWED. */
  decoderLayer(j: number, y: JArray, encoderStates: JArray, method: M): JArray;
  /** The scalar loss from the last decoder block's output (consumed); the head is frozen. */
  loss(h: JArray): JArray;
  /**
   * Optionally, the loss as a sum over row chunks of the last decoder block's output seen as
   * [rows, d]: `loss(x, start)` of rows start … start + n − 1 (x [n, d], consumed). When given,
   * the head's loss and cotangent run `size` rows at a time (each chunk's work freed before
   * the next), so the head holds one chunk's logits instead of every position's (an LM head
   * over a large vocabulary); `loss` above is then unused.
   */
  lossRows?: { rows: number; size: number; loss(x: JArray, start: number): JArray };
}

/** The decoder's differentiated tree: the method's, and the encoder output every decoder block reads. */
type DecoderTree<M> = { method: M; encoderStates: JArray };

/** `vjp` of a function of one array (consumes `x`). */
function vjp1(f: (x: JArray) => JArray, x: JArray): [JArray, ((ct: JArray) => [JArray]) & { dispose(): void }] {
  return (vjp as unknown as (fn: unknown, primals: unknown[]) => [JArray, ((ct: JArray) => [JArray]) & { dispose(): void }])(f, [x]);
}

/** The loss at the decoder's top `h` (consumed) and its cotangent there, settled: one `vjp`, or one per row chunk (`lossRows`). */
async function headLossAndCotangent<M>(stack: RematEncoderDecoder<M>, h: JArray): Promise<[JArray, JArray]> {
  const chunks = stack.lossRows;
  if (!chunks || chunks.size >= chunks.rows) {
    const [loss, back] = vjp1((x) => stack.loss(x), h);
    const [ct] = back(np.onesLike(loss.ref));
    back.dispose();
    await blockUntilReady([loss, ct] as never);
    return [loss, ct];
  }
  const shape = h.shape;
  const flat = h.reshape([chunks.rows, -1]);
  const cts: JArray[] = [];
  let total: JArray | null = null;
  try {
    for (let start = 0; start < chunks.rows; start += chunks.size) {
      const end = Math.min(chunks.rows, start + chunks.size);
      const [l, back] = vjp1((x) => chunks.loss(x, start), flat.ref.slice([start, end]));
      const [ct] = back(np.onesLike(l.ref));
      back.dispose();
      cts.push(ct);
      total = total === null ? l : total.add(l);
      await blockUntilReady([total, ct] as never);
    }
    const ct = np.concatenate(cts.splice(0), 0).reshape(shape);
    await ct.blockUntilReady();
    return [total as JArray, ct];
  } catch (e) {
    for (const c of cts) c.dispose();
    (total as JArray | null)?.dispose();
    throw e;
  } finally {
    flat.dispose();
  }
}

/**
 * The loss and its gradient w.r.t. the trainable tree `method` (CONSUMED) of an
 * encoder–decoder, block by block: the encoder forward keeping each block's input, the
 * encoder output, the decoder forward keeping each block's input; the loss under one `vjp`;
 * the decoder's blocks pulled back from the top w.r.t. (input, method, encoder output), the
 * encoder output's cotangent summed over the decoder blocks; that cotangent pulled back
 * through the encoder output map and the encoder's blocks. Peak memory: one block's work plus
 * every block's input and the encoder output. Equals `valueAndGrad` of the whole network's
 * loss up to float rounding (test/train/seq2seq-remat.test.ts). Returns an owned loss and
 * gradient tree shaped like `method`.
 */
export async function rematEncoderDecoderValueAndGrad<M>(stack: RematEncoderDecoder<M>, method: M): Promise<[JArray, M]> {
  for (const [what, n] of [["encoder", stack.encoderLayers], ["decoder", stack.decoderLayers]] as const) {
    if (!(Number.isInteger(n) && n >= 1)) {
      tree.dispose(method as never);
      throw new RangeError(`rematEncoderDecoderValueAndGrad: the ${what} needs at least one block, got ${n}`);
    }
  }
  const encInputs: JArray[] = [];
  const decInputs: JArray[] = [];
  const owned: { enc: JArray | null; encTop: JArray | null; loss: JArray | null; ct: JArray | null; gDec: M | null } = { enc: null, encTop: null, loss: null, ct: null, gDec: null };
  try {
    // Encoder forward; its output, settled (the encoder's last output is kept for the backward).
    const encTop = await forwardKeepingInputs(stack.encoderInput(), stack.encoderLayers, encInputs, (i, x) => stack.encoderLayer(i, x, method));
    owned.encTop = encTop;
    const enc = stack.encoderOutput(encTop.ref);
    owned.enc = enc;
    await enc.blockUntilReady();
    // Decoder forward.
    const decTop = await forwardKeepingInputs(stack.decoderInput(), stack.decoderLayers, decInputs, (j, y) => stack.decoderLayer(j, y, enc, method));
    // Loss and its cotangent at the decoder's top (in row chunks when the stack says how).
    const [loss, ctTop] = await headLossAndCotangent(stack, decTop);
    owned.loss = loss;
    owned.ct = ctTop;
    // Decoder backward: the method's and the encoder output's cotangents summed over blocks.
    owned.ct = null;
    const decTree: DecoderTree<M> = { method, encoderStates: enc };
    const gDec = await pullBackLayers(decInputs, ctTop, decTree, (j, y, t) => stack.decoderLayer(j, y, t.encoderStates, t.method));
    owned.gDec = gDec.method;
    enc.dispose();
    owned.enc = null;
    // Through the encoder output map to the encoder's top, then the encoder's blocks.
    owned.encTop = null;
    const [encAgain, encBack] = vjp1((h) => stack.encoderOutput(h), encTop);
    encAgain.dispose();
    const [ctEnc] = encBack(gDec.encoderStates);
    encBack.dispose();
    const gEnc = await pullBackLayers(encInputs, ctEnc, method, (i, x, m) => stack.encoderLayer(i, x, m));
    owned.gDec = null;
    const g = tree.map(add as never, gEnc as never, gDec.method as never) as M; // consumes both
    await blockUntilReady(g as never);
    owned.loss = null;
    return [loss, g];
  } catch (e) {
    for (const x of [...encInputs, ...decInputs]) x.dispose();
    for (const x of [owned.enc, owned.encTop, owned.loss, owned.ct]) x?.dispose();
    if (owned.gDec !== null) tree.dispose(owned.gDec as never);
    throw e;
  } finally {
    tree.dispose(method as never);
  }
}
