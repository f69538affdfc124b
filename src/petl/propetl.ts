/**
 * ProPETL (paper Sec. 3.2–3.4, App. A) and, as special cases of the same machinery, the plain
 * PETL methods and the Table 4 ablations.
 *
 * A `ModularMethod` attaches instances of one module kind (adapter.ts, lora.ts, prefix.ts) at
 * every position of every layer (positions: the kind's hook sites, e.g. Houlsby's two). Two
 * switches describe every method:
 *
 *   share  one prototype instance for ALL positions (ProPETL, only-share, random-mask), or
 *          one instance per position (plain methods, only-mask);
 *   masks  "learned": float scores per position in the shape of every masked tensor, the mask
 *          is the top-k of |scores| with a straight-through gradient (mask.ts);
 *          "random": fixed seeded masks, not trained; "none".
 *
 * Forward at position p for an example of task t: each masked tensor is θ ⊙ m, with
 * m = m_layer[p] (one task) or, when several tasks are configured, the mask the combine rule
 * gives (combine-rule.ts): the hybrid m_layer[p] ∨ m_task[t] (OR as 1−(1−a)(1−b)) or
 * m_layer[p] ∧ m_task[t] (AND as a·b), m_layer[p] alone ("layer": no task masks) or m_task[t]
 * alone ("task": no layer masks); biases are never masked. A batch may mix tasks
 * (`HookContext.taskIds`): every example then uses its own task's masks (per-example weights
 * [B, ...]). Task masks are shared by all positions (Sec. 3.4: one prototype, N layer masks
 * and T task masks).
 *
 * Trainable tree: `{ source, scores?, taskScores? }`. `source` holds the module instances
 * (group "module"); `scores[p][name]` (the layer masks, where the rule has them) and
 * `taskScores[t][name]` (the task masks, where it has them) the mask scores (group "scores"),
 * initialised kaiming-uniform(a=√5) as edge-popup. Scores' gradient: see
 * `straightThroughMask`.
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { BackboneParams, ModelConfig } from "../models/architecture.js";
import { layerName } from "../models/hooks.js";
import type { HookSite, LayerAddress, LayerHooks, ModelHooks } from "../models/hooks.js";
import { disposeTree } from "../models/slots.js";
import { ADAPTER_KIND, HOULSBY_KIND } from "./adapter.js";
import { LORA_KIND } from "./lora.js";
import {
  HostRng,
  SharedValue,
  combineMasks,
  combineMasksHost,
  kaimingUniform,
  keptCount,
  randomMaskHost,
  straightThroughMask,
  topKMask,
} from "./mask.js";
import { ruleMask, ruleMasks } from "./combine-rule.js";
import type { CombineRule } from "./combine-rule.js";
import type {
  HookContext,
  Materialized,
  MethodConfig,
  MethodState,
  ModuleKind,
  ModuleKindName,
  ModuleOptions,
  PetlMethod,
  StateSpec,
  TensorSpec,
  Unit,
} from "./method.js";
import { placePositions, sitesAt } from "./positions.js";
import type { Placement } from "./positions.js";
import { PREFIX_KIND } from "./prefix.js";
import type { PrefixSource } from "./prefix.js";

/** How a modular method shares and masks its modules. */
export interface ModularOptions {
  /** The resolved method config (registry.ts). */
  config: MethodConfig;
  module: ModuleOptions;
  share: boolean;
  masks: "learned" | "random" | "none";
  /** Kept fraction of layer masks and of task masks. */
  k: number;
  taskK: number;
  combine: CombineRule;
  /** Task names (at least one). */
  tasks: string[];
  /** Seed of random masks (random-mask; default 0). */
  maskSeed?: number;
}

/** Trainable tree of a modular method. */
export interface ModularParams<S> {
  source: S;
  scores?: Unit[];
  taskScores?: Unit[];
}

/** Kinds by name. */
export function moduleKind(name: ModuleKindName): ModuleKind<Unit[]> | ModuleKind<PrefixSource> {
  switch (name) {
    case "adapter":
      return ADAPTER_KIND;
    case "houlsby":
      return HOULSBY_KIND;
    case "lora":
      return LORA_KIND;
    case "prefix":
      return PREFIX_KIND;
  }
}

/** The position index of kind position q in layer i (an error where the layer has none). */
function slotOf(index: number[][], i: number, q: number): number {
  const p = index[i]?.[q] ?? -1;
  if (p < 0) throw new Error(`layer ${i} has no module position ${q}`);
  return p;
}

/** Per-stack hook lists from one `LayerHooks` per layer address (in `layers` order). */
export function hooksByStack(layers: readonly LayerAddress[], perLayer: (index: number) => LayerHooks): ModelHooks {
  const out: Partial<Record<LayerAddress["stack"], LayerHooks[]>> = {};
  layers.forEach((at, i) => {
    const list = (out[at.stack] ??= []);
    list[at.layer] = perLayer(i);
  });
  return out;
}

/** Hooks running materialised (already masked) modules; `m` is borrowed by the hooks. */
export function materializedHooks(m: Materialized): ModelHooks {
  if (m.kind === "full") return {};
  const kind = moduleKind(m.kind) as ModuleKind<unknown>;
  return hooksByStack(m.layers, (i) => kind.layerHooks((p, name) => {
    const t = m.units[i]?.[p]?.[name];
    if (t === undefined) throw new Error(`materialised ${m.kind} module has no tensor "${name}" at position ${p} of ${layerName(m.layers[i])}`);
    return t.ref;
  }, m.options, (p) => Object.keys(m.units[i]?.[p] ?? {}).length > 0));
}

/** Free materialised modules. */
export function disposeMaterialized(m: Materialized): void {
  for (const layer of m.units) for (const unit of layer) for (const t of Object.values(unit)) t.dispose();
  if (m.encoder) disposeTree(m.encoder);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Host 0/1 bytes of a device float mask (consumed). */
async function maskBytes(m: JArray): Promise<Uint8Array> {
  const f = (await m.data()) as Float32Array;
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = f[i] !== 0 ? 1 : 0;
  return out;
}

/**
 * The engine behind every PETL method but full fine-tuning (see the file comment).
 * `init` (or `bind`) binds the backbone config; one of them must run before `hooks` / `materialize`.
 */
export class ModularMethod<S> implements PetlMethod<ModularParams<S>> {
  readonly config: MethodConfig;
  private cfg: ModelConfig | undefined;
  /** The backbone's layers the modules attach to, stack by stack, and their positions (set by `bind`). */
  private placement: Placement = { layers: [], slots: [], index: [] };
  private random: { layer: Map<string, Uint8Array>; task: Map<string, Uint8Array>; device: Map<string, JArray> } | undefined;

  constructor(
    readonly kind: ModuleKind<S>,
    readonly options: ModularOptions,
  ) {
    this.config = options.config;
    if (options.tasks.length < 1) throw new Error(`${options.config.method}: at least one task name is needed`);
  }

  /** Several tasks with masks: hybrid masks are in use. */
  get multiTask(): boolean {
    return this.options.masks !== "none" && this.options.tasks.length > 1;
  }

  /** Layer masks exist: one task with masks, or several under a rule with layer masks. */
  private get layerMasked(): boolean {
    return this.options.masks !== "none" && (!this.multiTask || ruleMasks(this.options.combine).layer);
  }

  /** Task masks exist: several tasks under a rule with task masks. */
  private get taskMasked(): boolean {
    return this.multiTask && ruleMasks(this.options.combine).task;
  }

  /**
   * Keep the kept entries only: per-position modules pruned by their layer mask alone
   * (only-mask with one task, or several tasks sharing the layer masks).
   */
  private get compact(): boolean {
    return this.layerMasked && !this.taskMasked && !this.options.share;
  }

  hookSites(offered?: readonly HookSite[]): HookSite[] {
    return offered === undefined ? this.kind.positions.flatMap((p) => [...p.sites]) : sitesAt(this.kind.positions, offered);
  }

  private bound(): ModelConfig {
    if (!this.cfg) throw new Error(`${this.config.method}: call init(cfg, encoder, seed) or bind(cfg) first (the method needs the backbone config)`);
    return this.cfg;
  }

  /** The layers modules attach to, stack by stack, and the positions in them. */
  private placementOf(cfg: ModelConfig): Placement {
    return cfg === this.cfg ? this.placement : placePositions(this.kind.positions, cfg, this.config.method);
  }

  private positionCount(cfg: ModelConfig): number {
    return this.placementOf(cfg).slots.length;
  }

  private spec(cfg: ModelConfig): TensorSpec[] {
    return this.kind.unitSpec(cfg, this.options.module);
  }

  /** `encoder.layer.3.ffn_output`: a position's name in checkpoints. */
  private positionName(p: number, cfg: ModelConfig): string {
    return this.placementOf(cfg).slots[p].name;
  }

  /**
   * Bind the backbone config without creating parameters (`init` does it too). Needed before
   * `hooks` / `materialize` when the tree comes from elsewhere, e.g. a resumed run. Random
   * masks are drawn here, from `maskSeed` (the config's seed), so they depend on the config
   * alone.
   */
  bind(cfg: ModelConfig): void {
    const placement = placePositions(this.kind.positions, cfg, this.config.method);
    const same =
      this.cfg !== undefined &&
      this.placement.slots.length === placement.slots.length &&
      JSON.stringify(this.spec(this.cfg)) === JSON.stringify(this.spec(cfg));
    this.placement = placement;
    this.cfg = cfg;
    if (this.options.masks === "random" && !(same && this.random)) this.drawRandomMasks(cfg);
  }

  init(cfg: ModelConfig, _backbone: BackboneParams, seed: number): ModularParams<S> {
    this.bind(cfg);
    const o = this.options;
    const npos = this.positionCount(cfg);
    const source = this.kind.initSource(cfg, o.module, o.share ? 1 : npos, seed);
    const params: ModularParams<S> = { source };
    if (o.masks === "learned") {
      const masked = this.spec(cfg).filter((t) => t.masked);
      const rng = new HostRng((seed ^ 0x5c0e5) >>> 0);
      const fresh = (): Unit => Object.fromEntries(masked.map((t) => [t.name, kaimingUniform(rng, t.shape)]));
      if (this.layerMasked) params.scores = Array.from({ length: npos }, fresh);
      if (this.taskMasked) params.taskScores = o.tasks.map(fresh);
    }
    return params;
  }

  private drawRandomMasks(cfg: ModelConfig): void {
    this.dispose();
    const o = this.options;
    const masked = this.spec(cfg).filter((t) => t.masked);
    const rng = new HostRng(((o.maskSeed ?? 0) ^ 0x7a2d) >>> 0);
    const layer = new Map<string, Uint8Array>();
    const task = new Map<string, Uint8Array>();
    const device = new Map<string, JArray>();
    const add = (store: Map<string, Uint8Array>, which: string, key: string, t: TensorSpec, k: number): void => {
      const bits = randomMaskHost(rng, size(t.shape), k);
      store.set(key, bits);
      device.set(`${which}/${key}`, np.array(Float32Array.from(bits)).reshape(t.shape));
    };
    if (this.layerMasked) for (let p = 0; p < this.positionCount(cfg); p++) for (const t of masked) add(layer, "layer", `${p}/${t.name}`, t, o.k);
    if (this.taskMasked) o.tasks.forEach((_, ti) => masked.forEach((t) => add(task, "task", `${ti}/${t.name}`, t, o.taskK)));
    this.random = { layer, task, device };
  }

  dispose(): void {
    if (this.random) for (const a of this.random.device.values()) a.dispose();
    this.random = undefined;
  }

  groups(params: ModularParams<S>): unknown {
    const label = (node: unknown, g: string): unknown => {
      if (node === null || typeof node !== "object") return node;
      if (typeof (node as { dispose?: unknown }).dispose === "function") return g;
      if (Array.isArray(node)) return node.map((c) => label(c, g));
      return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, label(v, g)]));
    };
    const out: Record<string, unknown> = { source: label(params.source, "module") };
    if (params.scores) out.scores = label(params.scores, "scores");
    if (params.taskScores) out.taskScores = label(params.taskScores, "scores");
    return out;
  }

  private randomMask(which: "layer" | "task", index: number, name: string): JArray {
    const a = this.random?.device.get(`${which}/${index}/${name}`);
    if (!a) throw new Error(`${this.config.method}: no random ${which} mask for ${index}/${name}; call init or bind first`);
    return a.ref;
  }

  /** Layer mask of position p (owned); straight-through when learned and `train`. */
  private layerMask(params: ModularParams<S>, p: number, name: string, train: boolean): JArray {
    if (this.options.masks === "random") return this.randomMask("layer", p, name);
    const s = params.scores?.[p]?.[name];
    if (!s) throw new Error(`${this.config.method}: params have no scores for position ${p}, tensor "${name}"`);
    return train ? straightThroughMask(s.ref, this.options.k) : topKMask(np.abs(s.ref), this.options.k);
  }

  /** Task mask of task t (owned). */
  private taskMask(params: ModularParams<S>, t: number, name: string, train: boolean): JArray {
    if (this.options.masks === "random") return this.randomMask("task", t, name);
    const s = params.taskScores?.[t]?.[name];
    if (!s) throw new Error(`${this.config.method}: params have no task scores for task ${t}, tensor "${name}"`);
    return train ? straightThroughMask(s.ref, this.options.taskK) : topKMask(np.abs(s.ref), this.options.taskK);
  }

  /** Which task(s) a forward pass serves (without task masks every task runs the same modules). */
  private taskMode(ctx: HookContext): { single: number } | { ids: () => JArray } {
    if (!this.taskMasked) return { single: 0 };
    const T = this.options.tasks.length;
    const host = ctx.taskIdsHost;
    if (host) {
      for (let i = 0; i < host.length; i++) {
        if (!(host[i] >= 0 && host[i] < T)) throw new RangeError(`${this.config.method}: task id ${host[i]} of example ${i} is outside [0, ${T})`);
      }
      if (host.length > 0 && host.every((t) => t === host[0])) return { single: host[0] };
    }
    const ids = ctx.taskIds;
    if (ids) return { ids: () => ids.ref };
    if (host) return { ids: () => np.array(host, { dtype: np.int32 }) };
    throw new Error(`${this.config.method} has ${T} tasks: the hook context needs taskIds (each example's task index)`);
  }

  hooks(params: ModularParams<S>, ctx: HookContext): ModelHooks {
    const cfg = this.bound();
    const o = this.options;
    const npos = this.positionCount(cfg);
    const { layers, index } = this.placement;
    const only = ctx.onlyLayers ? new Set(ctx.onlyLayers) : undefined;
    // Positions whose hooks this pass may run: shared work is read once per position.
    const reads = only ? [...only].reduce((n, i) => n + (index[i] ?? []).filter((p) => p >= 0).length, 0) : npos;
    const read = this.kind.openSource(params.source, cfg, o.module, o.share ? 1 : npos, reads);
    const spec = new Map(this.spec(cfg).map((t) => [t.name, t]));
    const mode = this.taskMode(ctx);
    const taskMasks = new Map<string, SharedValue>();
    if (this.taskMasked) {
      for (const t of spec.values()) {
        if (!t.masked) continue;
        const make =
          "single" in mode
            ? () => this.taskMask(params, mode.single, t.name, true)
            : () => np.stack(o.tasks.map((_, ti) => this.taskMask(params, ti, t.name, true)), 0);
        taskMasks.set(t.name, new SharedValue(make, reads));
      }
    }
    const effective = (p: number, name: string): JArray => {
      const unit = read(o.share ? 0 : p, name);
      if (o.masks === "none" || !spec.get(name)?.masked) return unit;
      const layer = this.layerMasked ? this.layerMask(params, p, name, true) : undefined;
      const task = taskMasks.get(name)?.take();
      let m = this.multiTask ? ruleMask(o.combine, layer, task, combineMasks) : (layer as JArray);
      if (task !== undefined && "ids" in mode) m = m.slice(mode.ids());
      return unit.mul(m);
    };
    return hooksByStack(layers, (i) => (only && !only.has(i) ? {} : this.kind.layerHooks((q, name) => effective(slotOf(index, i, q), name), o.module, (q) => (index[i]?.[q] ?? -1) >= 0)));
  }

  materialize(params: ModularParams<S>, task = 0): Materialized {
    const cfg = this.bound();
    const o = this.options;
    this.checkTask(task);
    const P = this.kind.positions.length;
    const npos = this.positionCount(cfg);
    const spec = this.spec(cfg);
    const read = this.kind.openSource(params.source, cfg, o.module, o.share ? 1 : npos, npos);
    const taskMasks = new Map<string, JArray>();
    if (this.taskMasked) for (const t of spec) if (t.masked) taskMasks.set(t.name, this.taskMask(params, task, t.name, false));
    const units: Unit[][] = [];
    const { layers, index } = this.placement;
    for (let i = 0; i < layers.length; i++) {
      const layer: Unit[] = [];
      for (let q = 0; q < P; q++) {
        const p = index[i][q];
        const unit: Unit = {};
        if (p >= 0) for (const t of spec) {
          let x = read(o.share ? 0 : p, t.name);
          if (o.masks !== "none" && t.masked) {
            const layer = this.layerMasked ? this.layerMask(params, p, t.name, false) : undefined;
            const tm = taskMasks.get(t.name)?.ref;
            x = x.mul(this.multiTask ? ruleMask(o.combine, layer, tm, combineMasks) : (layer as JArray));
          }
          unit[t.name] = x;
        }
        layer.push(unit);
      }
      units.push(layer);
    }
    for (const m of taskMasks.values()) m.dispose();
    return { kind: this.kind.name, layers: [...layers], units, options: { ...o.module } };
  }

  private checkTask(task: number): void {
    if (!(Number.isInteger(task) && task >= 0 && task < this.options.tasks.length)) {
      throw new RangeError(`${this.config.method}: task index ${task} is outside [0, ${this.options.tasks.length}) (tasks: ${this.options.tasks.join(", ")})`);
    }
  }

  /**
   * Checkpoint tensor names: prototype.<t>, layer.<i>.<position>.<t>, mask.layer.<i>.<position>.<t>
   * (where there are layer masks), mask.task.<task>.<t> (where there are task masks).
   */
  stateSpec(cfg: ModelConfig): StateSpec {
    const o = this.options;
    const spec = this.spec(cfg);
    const tensors = new Map<string, number[]>();
    const masks = new Map<string, number[]>();
    const npos = this.positionCount(cfg);
    if (o.share) for (const t of spec) tensors.set(`prototype.${t.name}`, t.shape);
    for (let p = 0; p < npos; p++) {
      const pos = this.positionName(p, cfg);
      for (const t of spec) {
        if (!o.share) tensors.set(`${pos}.${t.name}`, this.compact && t.masked ? [keptCount(size(t.shape), o.k)] : t.shape);
        if (this.layerMasked && t.masked) masks.set(`mask.${pos}.${t.name}`, t.shape);
      }
    }
    if (this.taskMasked) for (const task of o.tasks) for (const t of spec) if (t.masked) masks.set(`mask.task.${task}.${t.name}`, t.shape);
    return { tensors, masks };
  }

  async exportState(params: ModularParams<S>): Promise<MethodState> {
    const cfg = this.bound();
    const o = this.options;
    const spec = this.spec(cfg);
    const npos = this.positionCount(cfg);
    const state: MethodState = { tensors: new Map(), masks: new Map() };
    const reads = o.share ? 1 : npos;
    const read = this.kind.openSource(params.source, cfg, o.module, o.share ? 1 : npos, reads);
    const layerMasks = new Map<string, Uint8Array>();
    if (this.layerMasked) {
      for (let p = 0; p < npos; p++) {
        for (const t of spec) {
          if (!t.masked) continue;
          const bits = o.masks === "random" ? (this.random?.layer.get(`${p}/${t.name}`) as Uint8Array) : await maskBytes(this.layerMask(params, p, t.name, false));
          layerMasks.set(`${p}/${t.name}`, bits);
          state.masks.set(`mask.${this.positionName(p, cfg)}.${t.name}`, { shape: t.shape, bits });
        }
      }
    }
    if (this.taskMasked) {
      for (let ti = 0; ti < o.tasks.length; ti++) {
        for (const t of spec) {
          if (!t.masked) continue;
          const bits = o.masks === "random" ? (this.random?.task.get(`${ti}/${t.name}`) as Uint8Array) : await maskBytes(this.taskMask(params, ti, t.name, false));
          state.masks.set(`mask.task.${o.tasks[ti]}.${t.name}`, { shape: t.shape, bits });
        }
      }
    }
    for (let u = 0; u < (o.share ? 1 : npos); u++) {
      for (const t of spec) {
        const data = (await read(u, t.name).data()) as Float32Array;
        if (o.share) {
          state.tensors.set(`prototype.${t.name}`, { shape: t.shape, data });
        } else if (this.compact && t.masked) {
          const bits = layerMasks.get(`${u}/${t.name}`) as Uint8Array;
          const kept = new Float32Array(keptCount(data.length, o.k));
          let j = 0;
          for (let e = 0; e < data.length; e++) if (bits[e]) kept[j++] = data[e];
          state.tensors.set(`${this.positionName(u, cfg)}.${t.name}`, { shape: [kept.length], data: kept });
        } else {
          state.tensors.set(`${this.positionName(u, cfg)}.${t.name}`, { shape: t.shape, data });
        }
      }
    }
    return state;
  }

  materializeState(cfg: ModelConfig, state: MethodState, task = 0): Materialized {
    const o = this.options;
    this.checkTask(task);
    const want = this.stateSpec(cfg);
    for (const [kindName, expected, got] of [
      ["tensor", want.tensors, state.tensors],
      ["mask", want.masks, state.masks],
    ] as const) {
      for (const [name, shape] of expected) {
        const g = got.get(name);
        if (!g) throw new Error(`${this.config.method} state: missing ${kindName} "${name}"`);
        if (g.shape.length !== shape.length || g.shape.some((d, i) => d !== shape[i])) {
          throw new Error(`${this.config.method} state: ${kindName} "${name}" has shape [${g.shape.join(",")}], expected [${shape.join(",")}]`);
        }
      }
    }
    const spec = this.spec(cfg);
    const P = this.kind.positions.length;
    const units: Unit[][] = [];
    const { layers, index } = this.placementOf(cfg);
    for (let i = 0; i < layers.length; i++) {
      const layer: Unit[] = [];
      for (let q = 0; q < P; q++) {
        const p = index[i][q];
        const unit: Unit = {};
        if (p >= 0) for (const t of spec) {
          const pos = this.positionName(p, cfg);
          const stored = state.tensors.get(o.share ? `prototype.${t.name}` : `${pos}.${t.name}`) as { data: Float32Array };
          let values = stored.data;
          if (o.masks !== "none" && t.masked) {
            const layerBits = this.layerMasked ? state.masks.get(`mask.${pos}.${t.name}`)?.bits : undefined;
            const taskBits = this.taskMasked ? state.masks.get(`mask.task.${o.tasks[task]}.${t.name}`)?.bits : undefined;
            const bits = this.multiTask ? ruleMask(o.combine, layerBits, taskBits, combineMasksHost) : (layerBits as Uint8Array);
            const dense = new Float32Array(bits.length);
            if (this.compact) {
              let j = 0;
              for (let e = 0; e < dense.length; e++) if (bits[e]) dense[e] = values[j++];
              if (j !== values.length) throw new Error(`${this.config.method} state: "${pos}.${t.name}" has ${values.length} kept values but its mask keeps ${j}`);
            } else {
              for (let e = 0; e < dense.length; e++) dense[e] = bits[e] ? values[e] : 0;
            }
            values = dense;
          }
          unit[t.name] = np.array(values).reshape(t.shape);
        }
        layer.push(unit);
      }
      units.push(layer);
    }
    return { kind: this.kind.name, layers: [...layers], units, options: { ...o.module } };
  }
}
