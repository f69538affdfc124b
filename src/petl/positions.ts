/**
 * Where a module kind's instances sit in a backbone: its positions (e.g. Houlsby's
 * attention_output and ffn_output), each on hook sites that the architecture's stacks offer
 * (`Architecture.sites`). A position is either required in every layer (an error where a
 * stack lacks its sites) or placed only where the stack offers them: LoRA's cross-attention
 * position exists in the decoder blocks of an encoder–decoder model and nowhere in an
 * encoder-only one. Positions are numbered stack by stack, layer by layer, in the kind's
 * order: ProPETL's layer masks, checkpoint names and storage counts follow this numbering.
 */
import { architectureOf } from "../models/registry.js";
import { layerAddresses } from "../models/architecture.js";
import type { ModelConfig } from "../models/architecture.js";
import { HOOK_SITES, layerName } from "../models/hooks.js";
import type { HookSite, LayerAddress } from "../models/hooks.js";

/** One module position of a kind's layer. */
export interface ModulePosition {
  /** Its name in checkpoints: `encoder.layer.3.<name>.<tensor>`. */
  name: string;
  /** The hook sites it attaches to. */
  sites: readonly HookSite[];
  /** "every-layer": required in every layer; "where-offered": in the layers whose stack offers its sites. */
  where: "every-layer" | "where-offered";
}

/** One placed position: the layer (index into `layers`), its address and the kind's position index. */
export interface PositionSlot {
  layer: number;
  at: LayerAddress;
  position: number;
  /** `decoder.layer.0.cross_attention`. */
  name: string;
}

/** A kind's placement in a backbone: its layers, stack by stack, and the positions in them. */
export interface Placement {
  layers: LayerAddress[];
  slots: PositionSlot[];
  /** [layer][kind position] → index into `slots`, or -1 where the layer has no such position. */
  index: number[][];
}

/** Place a kind's positions in a backbone; `who` names the method in errors. */
export function placePositions(positions: readonly ModulePosition[], cfg: ModelConfig, who: string): Placement {
  const arch = architectureOf(cfg);
  const layers = layerAddresses(arch, cfg);
  const slots: PositionSlot[] = [];
  const index = layers.map((at, layer) => {
    const offered = arch.sites(at.stack);
    return positions.map((pos, position) => {
      const lacking = pos.sites.filter((site) => !offered.includes(site));
      if (lacking.length) {
        if (pos.where === "where-offered") return -1;
        throw new Error(`${who}: the ${cfg.modelType} ${at.stack} has no hook site ${lacking.map((l) => HOOK_SITES[l]).join(", ")} (its sites: ${offered.map((o) => HOOK_SITES[o]).join(", ")})`);
      }
      slots.push({ layer, at, position, name: `${layerName(at)}.${pos.name}` });
      return slots.length - 1;
    });
  });
  return { layers, slots, index };
}

/** The hook sites a kind uses in a layer of `stack` (adapter_config.json's hook points). */
export function sitesAt(positions: readonly ModulePosition[], offered: readonly HookSite[]): HookSite[] {
  return positions.filter((p) => p.where === "every-layer" || p.sites.every((s) => offered.includes(s))).flatMap((p) => [...p.sites]);
}
