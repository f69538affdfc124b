/**
 * Full fine-tuning: every backbone parameter is trainable. The trainable tree is
 * `{ encoder }`, starting as new references to the frozen encoder's arrays (no copy: jax-js
 * arrays are immutable, so updates make new arrays). There are no hooks; the trainer runs
 * `encoderOverride(params)` instead of the frozen encoder. A checkpoint stores the whole
 * encoder under Hugging Face names (`encoder.<hf name>`).
 */
import { np } from "../engine/jax.js";
import type { EncoderConfig } from "../models/config.js";
import type { HookPoint, LayerHooks } from "../models/hooks.js";
import { encoderSlots, getLeaf, setLeaf } from "../models/params.js";
import type { EncoderParams } from "../models/params.js";
import type { Materialized, MethodConfig, MethodState, PetlMethod, StateSpec } from "./method.js";

export interface FullParams {
  encoder: EncoderParams;
}

function refTree<T>(t: T): T {
  if (t === null || typeof t !== "object") return t;
  if (typeof (t as { dispose?: unknown }).dispose === "function" && Array.isArray((t as { shape?: unknown }).shape)) {
    return (t as unknown as { ref: T }).ref;
  }
  if (Array.isArray(t)) return t.map((c: unknown) => refTree(c)) as T;
  return Object.fromEntries(Object.entries(t as Record<string, unknown>).map(([k, v]) => [k, refTree(v)])) as T;
}

const OPTIONS = { bottleneck: 0, rank: 0, alpha: 0, prefixLength: 0, prefixHidden: 0 };

export class FullFineTuning implements PetlMethod<FullParams> {
  constructor(readonly config: MethodConfig) {}

  init(_cfg: EncoderConfig, encoder: EncoderParams): FullParams {
    return { encoder: refTree(encoder) };
  }

  hooks(): (LayerHooks | undefined)[] {
    return [];
  }

  encoderOverride(params: FullParams): EncoderParams {
    return params.encoder;
  }

  groups(params: FullParams): unknown {
    const label = (node: unknown): unknown => {
      if (node === null || typeof node !== "object") return node;
      if (typeof (node as { dispose?: unknown }).dispose === "function") return "module";
      if (Array.isArray(node)) return node.map(label);
      return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, label(v)]));
    };
    return { encoder: label(params.encoder) };
  }

  hookPoints(): HookPoint[] {
    return [];
  }

  bind(): void {}

  materialize(params: FullParams): Materialized {
    return { kind: "full", units: [], options: { ...OPTIONS }, encoder: refTree(params.encoder) };
  }

  stateSpec(cfg: EncoderConfig): StateSpec {
    return { tensors: new Map(encoderSlots(cfg).map((s) => [`encoder.${s.hfName}`, s.shape])), masks: new Map() };
  }

  async exportState(params: FullParams): Promise<MethodState> {
    const tensors: MethodState["tensors"] = new Map();
    for (const slot of slotsOf(params.encoder)) {
      const data = (await getLeaf(params.encoder, slot.path).ref.data()) as Float32Array;
      tensors.set(`encoder.${slot.hfName}`, { shape: slot.shape, data });
    }
    return { tensors, masks: new Map() };
  }

  materializeState(cfg: EncoderConfig, state: MethodState): Materialized {
    const encoder: Record<string, unknown> = {};
    for (const slot of encoderSlots(cfg)) {
      const t = state.tensors.get(`encoder.${slot.hfName}`);
      if (!t) throw new Error(`full state: missing tensor "encoder.${slot.hfName}"`);
      if (t.shape.length !== slot.shape.length || t.shape.some((d, i) => d !== slot.shape[i])) {
        throw new Error(`full state: tensor "encoder.${slot.hfName}" has shape [${t.shape.join(",")}], expected [${slot.shape.join(",")}]`);
      }
      setLeaf(encoder, slot.path, np.array(t.data).reshape(slot.shape));
    }
    return { kind: "full", units: [], options: { ...OPTIONS }, encoder: encoder as unknown as EncoderParams };
  }

  dispose(): void {}
}

/** Encoder slots from the tree itself (the shapes the slots need come from its arrays). */
function slotsOf(encoder: EncoderParams) {
  const [vocab, hidden] = encoder.embeddings.word.shape;
  const cfg = {
    modelType: "bert",
    vocabSize: vocab,
    hiddenSize: hidden,
    numLayers: encoder.layers.length,
    numHeads: 1,
    intermediateSize: encoder.layers[0]?.inter.w.shape[0] ?? 1,
    hiddenAct: "gelu",
    layerNormEps: 1e-12,
    maxPositions: encoder.embeddings.position.shape[0],
    typeVocabSize: encoder.embeddings.tokenType.shape[0],
    padTokenId: 0,
    numLabels: 1,
  } satisfies EncoderConfig;
  return encoderSlots(cfg);
}
