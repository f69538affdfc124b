/**
 * Full fine-tuning: every backbone parameter is trainable, for any architecture (a BERT/RoBERTa
 * encoder, or T5's whole encoder–decoder with its shared embeddings). The trainable tree is
 * `{ encoder }` (the backbone), starting as new references to the frozen backbone's arrays
 * (no copy: jax-js arrays are immutable, so updates make new arrays). There are no hooks; the
 * trainers run `encoderOverride(params)` instead of the frozen backbone. A checkpoint stores
 * the whole backbone under Hugging Face names (`backbone.<hf name>`).
 */
import { np } from "../engine/jax.js";
import type { BackboneParams, ModelConfig } from "../models/architecture.js";
import type { HookSite, ModelHooks } from "../models/hooks.js";
import { architectureOf } from "../models/registry.js";
import { getLeaf, refTree, setLeaf } from "../models/slots.js";
import type { Materialized, MethodConfig, MethodState, PetlMethod, StateSpec } from "./method.js";

export interface FullParams {
  /** The trainable backbone (named `encoder` in version-1 trees; T5's holds both stacks). */
  encoder: BackboneParams;
}

/** Prefix of the backbone tensors in a full fine-tuning checkpoint (version 1: "encoder."). */
export const FULL_PREFIX = "backbone.";

const OPTIONS = { bottleneck: 0, rank: 0, alpha: 0, prefixLength: 0, prefixHidden: 0 };

export class FullFineTuning implements PetlMethod<FullParams> {
  private cfg: ModelConfig | undefined;

  constructor(readonly config: MethodConfig) {}

  init(cfg: ModelConfig, encoder: BackboneParams): FullParams {
    this.bind(cfg);
    return { encoder: refTree(encoder) };
  }

  hooks(): ModelHooks {
    return {};
  }

  encoderOverride(params: FullParams): BackboneParams {
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

  hookSites(): HookSite[] {
    return [];
  }

  bind(cfg: ModelConfig): void {
    this.cfg = cfg;
  }

  private bound(): ModelConfig {
    if (!this.cfg) throw new Error(`${this.config.method}: call init(cfg, encoder, seed) or bind(cfg) first (the method needs the backbone config)`);
    return this.cfg;
  }

  materialize(params: FullParams): Materialized {
    return { kind: "full", layers: [], units: [], options: { ...OPTIONS }, encoder: refTree(params.encoder) };
  }

  stateSpec(cfg: ModelConfig): StateSpec {
    return { tensors: new Map(architectureOf(cfg).backboneSlots(cfg).map((s) => [`${FULL_PREFIX}${s.hfName}`, s.shape])), masks: new Map() };
  }

  async exportState(params: FullParams): Promise<MethodState> {
    const tensors: MethodState["tensors"] = new Map();
    const cfg = this.bound();
    for (const slot of architectureOf(cfg).backboneSlots(cfg)) {
      const data = (await getLeaf(params.encoder, slot.path).ref.data()) as Float32Array;
      tensors.set(`${FULL_PREFIX}${slot.hfName}`, { shape: slot.shape, data });
    }
    return { tensors, masks: new Map() };
  }

  materializeState(cfg: ModelConfig, state: MethodState): Materialized {
    const encoder: Record<string, unknown> = {};
    for (const slot of architectureOf(cfg).backboneSlots(cfg)) {
      const t = state.tensors.get(`${FULL_PREFIX}${slot.hfName}`);
      if (!t) throw new Error(`full state: missing tensor "${FULL_PREFIX}${slot.hfName}"`);
      if (t.shape.length !== slot.shape.length || t.shape.some((d, i) => d !== slot.shape[i])) {
        throw new Error(`full state: tensor "${FULL_PREFIX}${slot.hfName}" has shape [${t.shape.join(",")}], expected [${slot.shape.join(",")}]`);
      }
      setLeaf(encoder, slot.path, np.array(t.data).reshape(slot.shape));
    }
    return { kind: "full", layers: [], units: [], options: { ...OPTIONS }, encoder: encoder as unknown as BackboneParams };
  }

  dispose(): void {}
}
