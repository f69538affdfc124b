/**
 * Loss and gradient of a layer stack with per-layer rematerialisation, partial or whole: the
 * training step's memory is the residuals of the top m layers plus one layer's work plus each
 * lower layer's input, instead of the whole network's.
 *
 * `valueAndGrad` over a whole forward pass keeps every residual of every layer (and, jax-js
 * being lazy, every intermediate still waiting to run) until the backward pass reads them.
 * Here the frozen stack runs forward layer by layer, waiting for each layer's work
 * (`blockUntilReady`) so that its intermediates are freed before the next layer is recorded.
 * The lower L − m layers keep only their input hidden state; the top m (`keepLayers`, default
 * 0) run under `vjp` w.r.t. (their input, the trainable tree) and keep their pullback, i.e. their
 * residuals. The head and loss are one `vjp`. Then, from the top, each kept layer's pullback is
 * applied to the incoming cotangent and freed; below them, layer i is run again under `vjp`
 * from its kept input and pulled back the same way. The trainable gradients are summed over
 * layers (a prototype shared by every layer gets the sum of its layers' gradients; layer 0 is
 * differentiated w.r.t. the trainable tree alone, as the stack's input needs no cotangent), and
 * each layer's work is awaited and freed before the layer below. The top layers are the ones
 * kept because the backward pass needs them first: their residuals are all freed before the
 * first rematerialised layer runs, so the peak is m layers' residuals or one layer's
 * rematerialised work plus the inputs, not both. The cost is one more forward pass of the
 * L − m rematerialised layers (none for m = L, every layer's residuals for memory); the
 * result equals `valueAndGrad` of the same loss up to float rounding for every m
 * (test/train/remat.test.ts). train/remat-choice.ts sizes m to the heap.
 *
 * The waits need the engine's pending work to run on its own (worker pool or main thread),
 * which `await blockUntilReady` allows where a synchronous read would be refused (see
 * bench/RESULTS.md, "Inference memory"). Hence the function is async and cannot run under jit.
 *
 * `rematEncoderDecoderValueAndGrad` does the same over an encoder–decoder (T5): both stacks
 * block by block, the decoder's top blocks kept first (they are pulled back first), then the
 * encoder's, the encoder output's cotangent summed over the decoder blocks that read it, and
 * the loss head optionally in row chunks.
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
 * One layer's pullback at a point: the cotangents of its input (null for layer 0, whose input
 * needs none) and of the tree; `dispose` frees its residuals.
 */
interface LayerPullback<T> {
  pull(ct: JArray): [JArray | null, T];
  dispose(): void;
}

/**
 * Layer i under `vjp`: its output (owned, pending) and its pullback. Layers above 0 are
 * differentiated w.r.t. (input, tree); layer 0 w.r.t. the tree alone: the stack's input (frozen
 * embeddings, in every stack here) needs no cotangent, so none of layer 0's input-gradient
 * work (its dx matmuls, attention and norms) runs. `x` is consumed, `t` borrowed.
 */
function layerVjp<T>(i: number, x: JArray, t: T, layer: (i: number, x: JArray, t: T) => JArray): [JArray, LayerPullback<T>] {
  const layerFn = (xx: JArray, tt: T): JArray => {
    const y = layer(i, xx, tt);
    tree.dispose(tt as never);
    return y;
  };
  if (i === 0) {
    const [out, back] = vjpOf1((tt: T) => layerFn(x.ref, tt), tree.ref(t as never) as T);
    x.dispose();
    return [out, { pull: (ct) => [null, back(ct)[0]], dispose: () => back.dispose() }];
  }
  const [out, back] = vjpOf(layerFn, x, tree.ref(t as never) as T);
  return [out, { pull: (ct) => back(ct), dispose: () => back.dispose() }];
}

/**
 * Pull a cotangent back through layers n − 1 … 0 of a stack from the top, where the top
 * `kept.length` layers kept their pullbacks from the forward pass (`kept[j]` is layer
 * `inputs.length + j`'s) and the layers below kept their inputs (`inputs[i]` is layer i's):
 * a kept layer's pullback is applied and freed; a rematerialised layer runs again under `vjp`
 * (`layerVjp`: w.r.t. its input and the tree `t`, layer 0 w.r.t. the tree alone). The tree's
 * cotangents are summed over the layers. `kept` and `inputs` are consumed as they are used
 * (popped), `ct` is consumed, `t` is borrowed, `layer(i, x, t)` consumes x and borrows t. Each
 * layer's work is awaited and its pullback freed before the layer below. Returns the summed
 * tree cotangent (owned); on an error, what it owns is freed (what is left in `kept` and
 * `inputs` stays the caller's).
 */
async function pullBackLayers<T>(inputs: JArray[], kept: LayerPullback<T>[], ct: JArray, t: T, layer: (i: number, x: JArray, t: T) => JArray): Promise<T> {
  let cur: JArray | null = ct;
  let sum: T | null = null;
  const accumulate = (g: T): T => (sum === null ? g : (tree.map(add as never, sum as never, g as never) as T));
  try {
    for (let i = inputs.length + kept.length - 1; i >= 0; i--) {
      let back: LayerPullback<T>;
      if (i >= inputs.length) {
        back = kept.pop() as LayerPullback<T>;
      } else {
        const [out, b] = layerVjp(i, inputs.pop() as JArray, t, layer);
        back = b;
        try {
          await out.blockUntilReady();
        } catch (e) {
          back.dispose();
          throw e;
        } finally {
          out.dispose();
        }
      }
      const pulled: JArray = cur as JArray;
      cur = null; // consumed by the pullback, whatever happens
      let ctIn: JArray | null;
      let g: T;
      try {
        [ctIn, g] = back.pull(pulled);
      } finally {
        back.dispose();
      }
      cur = ctIn;
      sum = accumulate(g);
      await blockUntilReady([ctIn, sum] as never);
    }
    if (sum === null) throw new RangeError("pullBackLayers: no layers");
    (cur as JArray | null)?.dispose(); // null unless the stack's layer 0 was not among them
    return sum;
  } catch (e) {
    (cur as JArray | null)?.dispose();
    if (sum !== null) tree.dispose(sum as never);
    throw e;
  }
}

/**
 * Run `layers` layers forward from `x0` (consumed), settling each output: the lower
 * `layers − keep` keep their input (pushed onto `inputs`), the top `keep` run under `vjp`
 * (`layerVjp`) and keep their pullback (pushed onto `kept`, bottom first). `t` is borrowed.
 * Returns the last output (owned); on an error, what is already in `inputs` and `kept` stays
 * the caller's.
 */
async function forwardKeeping<T>(x0: JArray, layers: number, keep: number, t: T, inputs: JArray[], kept: LayerPullback<T>[], layer: (i: number, x: JArray, t: T) => JArray): Promise<JArray> {
  const h = await runLayersSettled(x0, layers - keep, (x, i) => {
    inputs.push(x.ref);
    return layer(i, x, t);
  });
  const first = layers - keep;
  return runLayersSettled(h, keep, (x, j) => {
    const [out, back] = layerVjp(first + j, x, t, layer);
    kept.push(back);
    return out;
  });
}

/** Check a number of kept layers: an integer from 0 to `layers`. */
function checkKeep(what: string, keep: number, layers: number): void {
  if (!(Number.isInteger(keep) && keep >= 0 && keep <= layers)) throw new RangeError(`${what}: keepLayers must be an integer from 0 to ${layers}, got ${keep}`);
}

/** Options of `rematValueAndGrad` and `rematEncoderDecoderValueAndGrad`. */
export interface RematOptions {
  /**
   * How many layers, from the top, keep their pullback (their residuals) from the forward pass
   * instead of being run again in the backward pass: 0 (the default) rematerialises every layer,
   * the number of layers none (the whole-network gradient's memory, taken layer by layer). For
   * an encoder–decoder the count runs in the backward pass's order: the decoder's blocks from
   * the top, then the encoder's. `rematKeepLayers` (train/remat-choice.ts) sizes it to the heap.
   */
  keepLayers?: number;
}

/**
 * The loss and its gradient w.r.t. `params` (CONSUMED), layer by layer (see the file comment),
 * the top `opts.keepLayers` layers keeping their pullbacks. Returns an owned loss and gradient
 * tree shaped like `params`.
 */
export async function rematValueAndGrad<M, H>(stack: RematStack<M, H>, params: RematParams<M, H>, opts: RematOptions = {}): Promise<[JArray, RematParams<M, H>]> {
  if (!(Number.isInteger(stack.layers) && stack.layers >= 1)) throw new RangeError(`rematValueAndGrad: a stack needs at least one layer, got ${stack.layers}`);
  const keep = opts.keepLayers ?? 0;
  const inputs: JArray[] = [];
  const kept: LayerPullback<M>[] = [];
  let h: JArray | null = null;
  let ct: JArray | null = null;
  let loss: JArray | null = null;
  let gHead: H | null = null;
  try {
    checkKeep("rematValueAndGrad", keep, stack.layers);
    // Forward: keep each lower layer's input and each top layer's pullback, run each layer's
    // work before recording the next.
    h = await forwardKeeping(stack.input(), stack.layers, keep, params.method, inputs, kept, (i, x, m) => stack.layer(i, x, m));
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
    const gMethod = await pullBackLayers(inputs, kept, pulled, params.method, (i, x, m) => stack.layer(i, x, m));
    return [loss, { method: gMethod, head: gHead }];
  } catch (e) {
    (h as JArray | null)?.dispose();
    for (const x of inputs) x.dispose();
    for (const b of kept) b.dispose();
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
 * through the encoder output map and the encoder's blocks. With `opts.keepLayers` = m, the
 * top m blocks in that backward order (the decoder's from the top, then the encoder's) run
 * under `vjp` in the forward pass and keep their pullbacks instead of their inputs. Peak
 * memory: the kept blocks' residuals, one block's work, every other block's input and the
 * encoder output. Equals `valueAndGrad` of the whole network's
 * loss up to float rounding (test/train/seq2seq-remat.test.ts). Returns an owned loss and
 * gradient tree shaped like `method`.
 */
export async function rematEncoderDecoderValueAndGrad<M>(stack: RematEncoderDecoder<M>, method: M, opts: RematOptions = {}): Promise<[JArray, M]> {
  for (const [what, n] of [["encoder", stack.encoderLayers], ["decoder", stack.decoderLayers]] as const) {
    if (!(Number.isInteger(n) && n >= 1)) {
      tree.dispose(method as never);
      throw new RangeError(`rematEncoderDecoderValueAndGrad: the ${what} needs at least one block, got ${n}`);
    }
  }
  const keep = opts.keepLayers ?? 0;
  try {
    checkKeep("rematEncoderDecoderValueAndGrad", keep, stack.encoderLayers + stack.decoderLayers);
  } catch (e) {
    tree.dispose(method as never);
    throw e;
  }
  // Kept blocks in the backward pass's order: the decoder's from the top, then the encoder's.
  const keepDec = Math.min(keep, stack.decoderLayers);
  const keepEnc = keep - keepDec;
  const encInputs: JArray[] = [];
  const decInputs: JArray[] = [];
  const encKept: LayerPullback<M>[] = [];
  const decKept: LayerPullback<DecoderTree<M>>[] = [];
  const owned: { enc: JArray | null; encTop: JArray | null; loss: JArray | null; ct: JArray | null; gDec: M | null } = { enc: null, encTop: null, loss: null, ct: null, gDec: null };
  try {
    // Encoder forward; its output, settled (the encoder's last output is kept for the backward).
    const encTop = await forwardKeeping(stack.encoderInput(), stack.encoderLayers, keepEnc, method, encInputs, encKept, (i, x, m) => stack.encoderLayer(i, x, m));
    owned.encTop = encTop;
    const enc = stack.encoderOutput(encTop.ref);
    owned.enc = enc;
    await enc.blockUntilReady();
    // Decoder forward (its kept blocks differentiated w.r.t. the encoder output too).
    const decTree: DecoderTree<M> = { method, encoderStates: enc };
    const decLayer = (j: number, y: JArray, t: DecoderTree<M>): JArray => stack.decoderLayer(j, y, t.encoderStates, t.method);
    const decTop = await forwardKeeping(stack.decoderInput(), stack.decoderLayers, keepDec, decTree, decInputs, decKept, decLayer);
    // Loss and its cotangent at the decoder's top (in row chunks when the stack says how).
    const [loss, ctTop] = await headLossAndCotangent(stack, decTop);
    owned.loss = loss;
    owned.ct = ctTop;
    // Decoder backward: the method's and the encoder output's cotangents summed over blocks.
    owned.ct = null;
    const gDec = await pullBackLayers(decInputs, decKept, ctTop, decTree, decLayer);
    owned.gDec = gDec.method;
    enc.dispose();
    owned.enc = null;
    // Through the encoder output map to the encoder's top, then the encoder's blocks.
    owned.encTop = null;
    const [encAgain, encBack] = vjp1((h) => stack.encoderOutput(h), encTop);
    encAgain.dispose();
    const [ctEnc] = encBack(gDec.encoderStates);
    encBack.dispose();
    const gEnc = await pullBackLayers(encInputs, encKept, ctEnc, method, (i, x, m) => stack.encoderLayer(i, x, m));
    owned.gDec = null;
    const g = tree.map(add as never, gEnc as never, gDec.method as never) as M; // consumes both
    await blockUntilReady(g as never);
    owned.loss = null;
    return [loss, g];
  } catch (e) {
    for (const x of [...encInputs, ...decInputs]) x.dispose();
    for (const b of [...encKept, ...decKept]) b.dispose();
    for (const x of [owned.enc, owned.encTop, owned.loss, owned.ct]) x?.dispose();
    if (owned.gDec !== null) tree.dispose(owned.gDec as never);
    throw e;
  } finally {
    tree.dispose(method as never);
  }
}
