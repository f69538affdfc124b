/**
 * AdamW with parameter groups (decoupled weight decay, PyTorch `torch.optim.AdamW` /
 * HF `AdamW` update rule), written over parameter trees.
 *
 * Groups: every leaf of the trainable tree carries a group label ("module", "scores",
 * "head", or any name a caller defines) with its own learning rate and weight decay. ProPETL
 * trains the mask scores with a larger learning rate than the prototype (paper App. C.2,
 * Table 8).
 *
 * Weight decay: applied to every leaf of the "scores" group (the ProPETL authors decay the
 * scores too) and to every leaf with 2 or more dimensions elsewhere. One-dimensional leaves
 * outside "scores" (biases, LayerNorm gains) are not decayed, HF Trainer's `no_decay` rule
 * (the authors train with it). `decayVectors: true` decays them as well.
 *
 * Frozen leaves: `update` may be told leaves a step cannot change (multi-task training: the
 * heads and task scores of tasks absent from the batch). They keep their values and moments,
 * as torch's AdamW skips a parameter whose gradient is None (the step count stays shared).
 *
 * Ownership: `update` consumes `params`, `grads` and `state` and returns new trees; `init`
 * borrows `params`.
 */
import { jit, np, tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { fillSkeleton, getPath, mapNamed, namedLeaves, skeletonOf } from "./tree-util.js";

/** One optimiser group's hyper-parameters. */
export interface GroupHyper {
  /** Peak learning rate of the group (the schedule multiplies it). */
  lr: number;
  /** Decoupled weight decay coefficient. */
  weightDecay: number;
}

/** Options of `AdamW`. */
export interface AdamWOptions {
  /** Hyper-parameters per group label. Every leaf's label must be here. */
  groups: Readonly<Record<string, GroupHyper>>;
  /** First-moment decay (default `ADAMW_DEFAULTS.beta1`). */
  beta1?: number;
  /** Second-moment decay (default `ADAMW_DEFAULTS.beta2`). */
  beta2?: number;
  /** Denominator epsilon (default `ADAMW_DEFAULTS.eps`). */
  eps?: number;
  /** Decay 1-D leaves of every group (default false: only "scores" and >=2-D leaves). */
  decayVectors?: boolean;
  /** Groups whose every leaf is decayed whatever its rank (default ["scores"]). */
  alwaysDecay?: readonly string[];
  /** Compile the update with jax-js `jit` (default true). */
  jit?: boolean;
}

/** Optimizer state: step count and first/second moments shaped like the params. */
export interface AdamWState<P> {
  /** Steps taken. */
  count: number;
  /** First moments. */
  mu: P;
  /** Second moments. */
  nu: P;
}

/** AdamW's defaults (as PyTorch's `AdamW`). */
export const ADAMW_DEFAULTS = {
  /** `AdamWOptions.beta1`. */
  beta1: 0.9,
  /** `AdamWOptions.beta2`. */
  beta2: 0.999,
  /** `AdamWOptions.eps`. */
  eps: 1e-8,
} as const;

export class OptimizerConfigError extends Error {}

/** Per-leaf (path -> group, decay?) plan, checked once against the labels tree. */
export interface LeafPlan {
  /** The leaf's group label. */
  group: string;
  /** That group's hyper-parameters. */
  hyper: GroupHyper;
  /** Whether weight decay applies to it. */
  decay: boolean;
}

/**
 * AdamW with decoupled weight decay over a parameter tree, with learning rate and decay per
 * group (each leaf labelled by a group name), as PyTorch's `AdamW` computes it.
 */
export class AdamW<P> {
  /** First-moment decay in use. */
  readonly beta1: number;
  /** Second-moment decay in use. */
  readonly beta2: number;
  /** Epsilon in use. */
  readonly eps: number;
  private readonly useJit: boolean;
  private readonly plan = new Map<string, LeafPlan>();
  /** The params' structure with each leaf replaced by its path (no arrays). */
  private readonly skeleton: unknown;

  /**
   * `params` gives the tree's structure (borrowed, only shapes are read); `labels` is a tree
   * of the same shape whose leaves are group names.
   */
  constructor(
    params: P,
    labels: unknown,
    /** The options given. */
    readonly options: AdamWOptions,
  ) {
    this.beta1 = options.beta1 ?? ADAMW_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? ADAMW_DEFAULTS.beta2;
    this.eps = options.eps ?? ADAMW_DEFAULTS.eps;
    this.useJit = options.jit ?? true;
    for (const [name, b] of [["beta1", this.beta1], ["beta2", this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new OptimizerConfigError(`AdamW ${name} must be in [0, 1), got ${b}`);
    }
    if (!(this.eps > 0)) throw new OptimizerConfigError(`AdamW eps must be > 0, got ${this.eps}`);
    for (const [g, h] of Object.entries(options.groups)) {
      if (!(Number.isFinite(h.lr) && h.lr >= 0)) throw new OptimizerConfigError(`group "${g}": learning rate must be a finite number >= 0, got ${h.lr}`);
      if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0)) throw new OptimizerConfigError(`group "${g}": weight decay must be a finite number >= 0, got ${h.weightDecay}`);
    }
    this.skeleton = skeletonOf(params);
    const always = new Set(options.alwaysDecay ?? ["scores"]);
    for (const [path, leaf] of namedLeaves(params)) {
      const label = getPath(labels, path);
      if (typeof label !== "string") {
        throw new OptimizerConfigError(`no optimizer group label for parameter "${path}" (labels must mirror the parameter tree)`);
      }
      const hyper = options.groups[label];
      if (!hyper) throw new OptimizerConfigError(`parameter "${path}" is in group "${label}", which has no learning rate (groups: ${Object.keys(options.groups).join(", ")})`);
      const decay = hyper.weightDecay > 0 && (always.has(label) || options.decayVectors === true || leaf.ndim >= 2);
      this.plan.set(path, { group: label, hyper, decay });
    }
  }

  /** The group and decay decision for each parameter path. */
  leafPlan(): ReadonlyMap<string, LeafPlan> {
    return this.plan;
  }

  /** Zero moments (borrows `params`). */
  init(params: P): AdamWState<P> {
    const zeros = (_: string, leaf: JArray): JArray => np.zeros(leaf.shape);
    return { count: 0, mu: mapNamed(params, zeros) as P, nu: mapNamed(params, zeros) as P };
  }

  /**
   * One AdamW step. `lrScale` multiplies every group's learning rate (the schedule);
   * `gradScale` multiplies the gradients first (clipping, accumulation). Consumes `params`,
   * `grads` and `state`.
   */
  update(params: P, grads: P, state: AdamWState<P>, lrScale: number, gradScale = 1, frozen?: ReadonlySet<string>): {
    /** The updated parameters. */
    params: P;
    /** The updated state. */
    state: AdamWState<P>;
  } {
    const t = state.count + 1;
    const scalars: StepScalars = {
      lrScale: np.array([lrScale]),
      gradScale: np.array([gradScale]),
      // 1 / (1 - b1^t) and 1 / sqrt(1 - b2^t): the bias corrections.
      bc1: np.array([1 / (1 - this.beta1 ** t)]),
      bc2: np.array([1 / Math.sqrt(1 - this.beta2 ** t)]),
    };
    for (const path of frozen ?? []) if (!this.plan.has(path)) throw new OptimizerConfigError(`AdamW.update: frozen parameter "${path}" is not in the tree`);
    const key = frozen && frozen.size > 0 ? [...frozen].sort().join("\n") : "";
    let core = this.cores.get(key);
    if (!core) {
      const skip = new Set(frozen ?? []);
      const step = (p: P, g: P, mu: P, nu: P, sc: StepScalars) => this.coreStep(p, g, mu, nu, sc, skip);
      core = this.useJit ? (jit(step as unknown as (a: JArray) => JArray) as unknown as CoreStep<P>) : step;
      this.cores.set(key, core);
    }
    const out = core(params, grads, state.mu, state.nu, scalars);
    return { params: out.params, state: { count: t, mu: out.mu, nu: out.nu } };
  }

  /** The update step per set of frozen leaves ("" for none), compiled once each. */
  private readonly cores = new Map<string, CoreStep<P>>();

  /** The update as a pure function of trees (jit-able); consumes every argument. Leaves in `frozen` pass through. */
  private coreStep(params: P, grads: P, mu: P, nu: P, scalars: StepScalars, frozen: ReadonlySet<string>): { params: P; mu: P; nu: P } {
    const b1 = this.beta1;
    const b2 = this.beta2;
    const gLeaves = new Map(namedLeaves(grads));
    const muLeaves = new Map(namedLeaves(mu));
    const nuLeaves = new Map(namedLeaves(nu));
    const newParams = new Map<string, JArray>();
    const newMu = new Map<string, JArray>();
    const newNu = new Map<string, JArray>();
    for (const [path, p] of namedLeaves(params)) {
      const plan = this.plan.get(path);
      const g0 = gLeaves.get(path);
      const m0 = muLeaves.get(path);
      const v0 = nuLeaves.get(path);
      if (!plan || !g0 || !m0 || !v0) throw new OptimizerConfigError(`AdamW.update: parameter "${path}" has no gradient or optimizer state`);
      gLeaves.delete(path);
      if (frozen.has(path)) {
        g0.dispose();
        newParams.set(path, p);
        newMu.set(path, m0);
        newNu.set(path, v0);
        continue;
      }
      const g = g0.mul(scalars.gradScale.ref);
      const m = m0.mul(b1).add(g.ref.mul(1 - b1));
      const v = v0.mul(b2).add(np.square(g).mul(1 - b2));
      newMu.set(path, m.ref);
      newNu.set(path, v.ref);
      const lr = scalars.lrScale.ref.mul(plan.hyper.lr);
      const denom = np.sqrt(v).mul(scalars.bc2.ref).add(this.eps);
      const step = m.mul(scalars.bc1.ref).mul(lr.ref).div(denom);
      const decayed = plan.decay ? p.mul(lr.mul(-plan.hyper.weightDecay).add(1)) : (lr.dispose(), p);
      newParams.set(path, decayed.sub(step));
    }
    tree.dispose(scalars);
    if (gLeaves.size > 0) throw new OptimizerConfigError(`AdamW.update: gradients for unknown parameters: ${[...gLeaves.keys()].join(", ")}`);
    return {
      params: fillSkeleton(this.skeleton, newParams) as P,
      mu: fillSkeleton(this.skeleton, newMu) as P,
      nu: fillSkeleton(this.skeleton, newNu) as P,
    };
  }
}

type StepScalars = { lrScale: JArray; gradScale: JArray; bc1: JArray; bc2: JArray };
type CoreStep<P> = (params: P, grads: P, mu: P, nu: P, scalars: StepScalars) => { params: P; mu: P; nu: P };

/** Global L2 norm of a tree as a scalar array (borrows `grads`). */
export function globalNorm(grads: unknown): JArray {
  let total: JArray | undefined;
  for (const [, g] of namedLeaves(grads)) {
    const s = np.sum(np.square(g.ref));
    total = total === undefined ? s : total.add(s);
  }
  return total === undefined ? np.zeros([]) : np.sqrt(total);
}

/** HF / torch `clip_grad_norm_` coefficient: min(1, maxNorm / (norm + 1e-6)); 1 when disabled. */
export function clipCoefficient(norm: number, maxNorm: number | undefined): number {
  if (maxNorm === undefined || maxNorm <= 0 || !Number.isFinite(norm)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}
