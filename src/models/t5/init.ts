/**
 * Fresh T5 weights as Hugging Face initialises them (`T5PreTrainedModel._init_weights`,
 * initializer_factor 1): embeddings and the untied LM head N(0, 1); q N(0, (d_model·d_kv)^-½),
 * k and v N(0, d_model^-½), o N(0, (heads·d_kv)^-½); the relative-attention bias
 * N(0, d_model^-½); wi (wi_0, wi_1) N(0, d_model^-½), wo N(0, d_ff^-½); RMS norms 1.
 * Deterministic in `seed`.
 */
import { np, random } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import { setLeaf } from "../slots.js";
import type { ParamSlot } from "../slots.js";
import type { T5Config } from "./config.js";
import { t5Slots } from "./params.js";
import type { T5Params } from "./params.js";

/** The normal std of a slot's tensor, or null for a norm weight (ones). */
function initStd(slot: ParamSlot, cfg: T5Config): number | null {
  const leaf = slot.path[slot.path.length - 2];
  const { dModel: d, dKv, dFf, numHeads } = cfg;
  if (slot.path[0] === "shared" || slot.path[0] === "lmHead") return 1;
  if (slot.path[1] === "relativeBias") return d ** -0.5;
  switch (leaf) {
    case "q":
      return (d * dKv) ** -0.5;
    case "k":
    case "v":
    case "wi":
    case "wi0":
    case "wi1":
      return d ** -0.5;
    case "o":
      return (numHeads * dKv) ** -0.5;
    case "wo":
      return dFf ** -0.5;
    default:
      return null; // selfLn, crossLn, ffnLn, finalLn
  }
}

export function initT5(cfg: T5Config, seed: number): T5Params {
  const slots = t5Slots(cfg);
  const keys = [...random.split(random.key(seed), slots.length)];
  const tree: Record<string, unknown> = {};
  slots.forEach((slot, i) => {
    const std = initStd(slot, cfg);
    let leaf: JArray;
    if (std === null) {
      keys[i].dispose();
      leaf = np.ones(slot.shape);
    } else {
      leaf = random.normal(keys[i], slot.shape).mul(std);
    }
    setLeaf(tree, slot.path, leaf);
  });
  return tree as unknown as T5Params;
}
