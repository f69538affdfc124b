/**
 * A small hand-written SVG plotting module for the experiment scripts (no dependencies).
 *
 * - Scales: `linearScale` and `logScale` (base 10) map a data domain onto a pixel range and
 *   propose ticks (`niceDomain` rounds a data extent outwards to tick steps).
 * - `Figure` is one SVG document; `Figure.axes(box, x, y)` makes a panel (`Axes`) whose
 *   methods draw in data coordinates: axes with ticks, grid lines, lines (NaN breaks a line),
 *   markers, error bars, reference lines, labels that avoid each other, and a legend.
 * - `PALETTE` is the Okabe–Ito colour-blind-safe palette; `MARKERS` the marker shapes.
 *
 * Coordinates are written with at most two decimals. Every element goes on its own line.
 *
 *   const fig = new Figure({ width: 640, height: 360, title: "loss" });
 *   const box = { left: 56, top: 24, right: 624, bottom: 316 };
 *   const ax = fig.axes(box, linearScale([0, 100], [box.left, box.right]), linearScale([0, 1], [box.bottom, box.top]));
 *   ax.yAxis({ ticks: ax.y.ticks(), grid: "#ddd" });
 *   ax.line([{ x: 0, y: 0.2 }, { x: 100, y: 0.9 }], { stroke: PALETTE[0] });
 *   writeFileSync("out.svg", fig.toString());
 */

// ---------------------------------------------------------------------------------------------
// Formatting

/** A coordinate or size as SVG text: at most two decimals, no trailing zeros, no "-0". */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`svg-plot: non-finite coordinate ${v}`);
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export type AttrValue = string | number | undefined | null;

/** `<tag a="1" b="x"/>` or `<tag ...>content</tag>`; undefined/null attributes are left out. */
export function element(tag: string, attrs: Readonly<Record<string, AttrValue>>, content?: string): string {
  const a = Object.entries(attrs)
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== null)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? num(v) : escapeXml(v)}"`)
    .join("");
  return content === undefined ? `<${tag}${a}/>` : `<${tag}${a}>${content}</${tag}>`;
}

/** A tick value as short text: 0.1, 2.5, 100, 1e-7. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  return String(Number.parseFloat(v.toPrecision(10)));
}

/** 1500 → "1.5k", 2e6 → "2M" (decimal prefixes). */
export function formatSI(v: number, unit = ""): string {
  const prefixes: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [f, p] of prefixes) if (Math.abs(v) >= f) return `${formatTick(Number.parseFloat((v / f).toPrecision(3)))}${unit ? " " : ""}${p}${unit}`;
  return `${formatTick(Number.parseFloat(v.toPrecision(3)))}${unit ? " " + unit : ""}`;
}

/** Bytes with decimal units: 1 KB = 1000 B. 150000 → "150 KB". */
export function formatBytes(v: number): string {
  const units: [number, string][] = [[1e12, "TB"], [1e9, "GB"], [1e6, "MB"], [1e3, "KB"]];
  for (const [f, u] of units) if (Math.abs(v) >= f) return `${formatTick(Number.parseFloat((v / f).toPrecision(3)))} ${u}`;
  return `${formatTick(Number.parseFloat(v.toPrecision(3)))} B`;
}

// ---------------------------------------------------------------------------------------------
// Scales

export interface Scale {
  /** Data value → pixel. */
  (v: number): number;
  readonly kind: "linear" | "log";
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  /** Tick values inside the domain (about `count` of them for linear scales). */
  ticks(count?: number): number[];
  /** Pixel → data value. */
  invert(px: number): number;
}

function makeScale(kind: "linear" | "log", domain: readonly [number, number], range: readonly [number, number], fwd: (v: number) => number, inv: (t: number) => number, ticks: (count?: number) => number[]): Scale {
  const [t0, t1] = [fwd(domain[0]), fwd(domain[1])];
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) throw new Error(`svg-plot: bad ${kind} domain [${domain.join(", ")}]`);
  const span = t1 - t0 || 1;
  const f = (v: number): number => range[0] + ((fwd(v) - t0) / span) * (range[1] - range[0]);
  return Object.assign(f, {
    kind,
    domain: [domain[0], domain[1]] as const,
    range: [range[0], range[1]] as const,
    ticks,
    invert: (px: number) => inv(t0 + ((px - range[0]) / (range[1] - range[0] || 1)) * span),
  });
}

/** Tick step of about span / count, rounded to 1, 2, 2.5 or 5 × 10^n. */
export function niceStep(span: number, count = 5): number {
  const raw = Math.abs(span) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

function clean(v: number): number {
  return Number.parseFloat(v.toPrecision(12));
}

/** Multiples of `step` inside [lo, hi] (ends included up to rounding). */
export function stepTicks(lo: number, hi: number, step: number): number[] {
  const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
  const out: number[] = [];
  const eps = step * 1e-9;
  for (let i = Math.ceil((a - eps) / step); i * step <= b + eps; i++) out.push(clean(i * step));
  return out;
}

/** [lo, hi] widened to multiples of a nice step (a degenerate extent is padded). */
export function niceDomain(lo: number, hi: number, count = 5): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  return [clean(Math.floor(lo / step + 1e-9) * step), clean(Math.ceil(hi / step - 1e-9) * step)];
}

/** Linear map of `domain` onto `range` (range[0] ↔ domain[0]; give [bottom, top] for y). */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  return makeScale("linear", domain, range, (v) => v, (t) => t, (count = 5) => stepTicks(domain[0], domain[1], niceStep(domain[1] - domain[0], count)));
}

/**
 * Base-10 log map (domain must be positive). Ticks are the powers of ten inside the domain;
 * when there are fewer than three, the 2× and 5× multiples are added.
 */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  if (!(domain[0] > 0 && domain[1] > 0)) throw new Error(`svg-plot: log scale needs a positive domain, got [${domain.join(", ")}]`);
  const ticks = (): number[] => {
    const [a, b] = domain[0] <= domain[1] ? [domain[0], domain[1]] : [domain[1], domain[0]];
    const e0 = Math.floor(Math.log10(a)), e1 = Math.ceil(Math.log10(b));
    const inside = (v: number) => v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9);
    const pow: number[] = [];
    for (let e = e0; e <= e1; e++) if (inside(10 ** e)) pow.push(clean(10 ** e));
    if (pow.length >= 3) return pow;
    const all: number[] = [];
    for (let e = e0; e <= e1; e++) for (const m of [1, 2, 5]) if (inside(m * 10 ** e)) all.push(clean(m * 10 ** e));
    return all;
  };
  return makeScale("log", domain, range, Math.log10, (t) => 10 ** t, ticks);
}

/** The powers of ten just outside [lo, hi] (lo, hi > 0): a log domain with round ends. */
export function logDomain(lo: number, hi: number): [number, number] {
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
}

// ---------------------------------------------------------------------------------------------
// Styles

/** Okabe & Ito (2008) colour-blind-safe palette, yellow last (weak on white). */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"] as const;

export type MarkerShape = "circle" | "square" | "triangle" | "diamond" | "triangle-down" | "cross" | "plus" | "star";
export const MARKERS: readonly MarkerShape[] = ["circle", "square", "triangle", "diamond", "triangle-down", "cross", "plus", "star"];

export interface StrokeStyle {
  stroke: string;
  width?: number;
  /** stroke-dasharray, e.g. "6 4". */
  dash?: string;
  opacity?: number;
}

export interface MarkerStyle {
  shape?: MarkerShape;
  /** Half-width in px (default 4). */
  size?: number;
  fill?: string;
  stroke?: string;
  strokeWidth?: number;
}

export interface TextOptions {
  anchor?: "start" | "middle" | "end";
  size?: number;
  weight?: "bold" | "normal";
  fill?: string;
  /** Degrees, around (x, y). */
  rotate?: number;
  italic?: boolean;
}

export function text(x: number, y: number, s: string, o: TextOptions = {}): string {
  return element(
    "text",
    {
      x,
      y,
      "text-anchor": o.anchor && o.anchor !== "start" ? o.anchor : undefined,
      transform: o.rotate ? `rotate(${num(o.rotate)} ${num(x)} ${num(y)})` : undefined,
      "font-size": o.size,
      "font-weight": o.weight === "bold" ? "bold" : undefined,
      "font-style": o.italic ? "italic" : undefined,
      fill: o.fill,
    },
    escapeXml(s),
  );
}

export function line(x1: number, y1: number, x2: number, y2: number, s: StrokeStyle): string {
  return element("line", { x1, x2, y1, y2, stroke: s.stroke, "stroke-width": s.width, "stroke-dasharray": s.dash, "stroke-opacity": s.opacity });
}

/** A polyline through pixel points; a non-finite point breaks it. */
export function pathData(pts: readonly (readonly [number, number])[]): string {
  let d = "";
  let pen = false;
  for (const [x, y] of pts) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${num(x)},${num(y)}`;
    pen = true;
  }
  return d;
}

/** A marker centred on (x, y) in pixels. */
export function marker(x: number, y: number, m: MarkerStyle = {}): string {
  const r = m.size ?? 4;
  const fill = m.fill ?? "black";
  const paint = { fill, stroke: m.stroke, "stroke-width": m.stroke ? (m.strokeWidth ?? 1) : undefined };
  const poly = (pts: [number, number][]) => element("path", { d: pathData(pts.map(([dx, dy]) => [x + dx * r, y + dy * r] as const)) + "Z", ...paint });
  switch (m.shape ?? "circle") {
    case "circle":
      return element("circle", { cx: x, cy: y, r, ...paint });
    case "square":
      return element("rect", { x: x - r * 0.9, y: y - r * 0.9, width: r * 1.8, height: r * 1.8, ...paint });
    case "triangle":
      return poly([[0, -1.2], [1.1, 0.8], [-1.1, 0.8]]);
    case "triangle-down":
      return poly([[0, 1.2], [1.1, -0.8], [-1.1, -0.8]]);
    case "diamond":
      return poly([[0, -1.3], [1.1, 0], [0, 1.3], [-1.1, 0]]);
    case "star": {
      const pts: [number, number][] = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 ? 0.55 : 1.3;
        pts.push([Math.cos(a) * rr, Math.sin(a) * rr]);
      }
      return poly(pts);
    }
    case "cross":
    case "plus": {
      const k = m.shape === "cross" ? 0.8 : 1.1;
      const d = m.shape === "cross"
        ? `M${num(x - k * r)},${num(y - k * r)}L${num(x + k * r)},${num(y + k * r)}M${num(x - k * r)},${num(y + k * r)}L${num(x + k * r)},${num(y - k * r)}`
        : `M${num(x - k * r)},${num(y)}L${num(x + k * r)},${num(y)}M${num(x)},${num(y - k * r)}L${num(x)},${num(y + k * r)}`;
      return element("path", { d, fill: "none", stroke: m.stroke ?? fill, "stroke-width": m.strokeWidth ?? 2 });
    }
  }
}

/** Rough width of a label in px (sans-serif averages ~0.58 em per character). */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.58;
}

/** `s` broken at spaces into lines of at most `width` px (by `textWidth`). */
export function wrapText(s: string, width: number, size: number): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of s.split(/\s+/).filter(Boolean)) {
    const next = cur ? `${cur} ${word}` : word;
    if (cur && textWidth(next, size) > width) {
      lines.push(cur);
      cur = word;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Figure and axes

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface FigureOptions {
  width: number;
  height: number;
  /** Default font size (px). */
  fontSize?: number;
  fontFamily?: string;
  /** Background fill; null for none (default white). */
  background?: string | null;
  /** Write a viewBox so the picture scales (default true). */
  viewBox?: boolean;
  /** Accessible title (`<title>`), not drawn. */
  title?: string;
}

export class Figure {
  readonly width: number;
  readonly height: number;
  readonly fontSize: number;
  private readonly parts: string[] = [];

  constructor(private readonly opts: FigureOptions) {
    this.width = opts.width;
    this.height = opts.height;
    this.fontSize = opts.fontSize ?? 12;
  }

  /** Raw SVG elements, in drawing order. */
  add(...elements: string[]): this {
    this.parts.push(...elements);
    return this;
  }

  text(x: number, y: number, s: string, o?: TextOptions): this {
    return this.add(text(x, y, s, o));
  }

  line(x1: number, y1: number, x2: number, y2: number, s: StrokeStyle): this {
    return this.add(line(x1, y1, x2, y2, s));
  }

  /** A panel drawing into `box` (pixels) with these scales (their ranges should span the box). */
  axes(box: Box, x: Scale, y: Scale): Axes {
    return new Axes(this, box, x, y);
  }

  /**
   * A legend: one row per entry (line sample and/or marker, then the label), top-left corner
   * at (x, y). Returns the height it used.
   */
  legend(entries: readonly LegendEntry[], x: number, y: number, o: { size?: number; rowHeight?: number; title?: string; sample?: number } = {}): number {
    const size = o.size ?? Math.max(11, this.fontSize - 1);
    const row = o.rowHeight ?? Math.round(size * 1.6);
    const sample = o.sample ?? 26;
    let cy = y;
    if (o.title) {
      this.text(x, cy + size, o.title, { size, weight: "bold" });
      cy += row;
    }
    for (const e of entries) {
      const mid = cy + row / 2;
      if (e.stroke) this.line(x, mid, x + sample, mid, e.stroke);
      if (e.marker) this.add(marker(x + sample / 2, mid, e.marker));
      this.text(x + sample + 6, mid + size * 0.35, e.label, { size });
      cy += row;
    }
    return cy - y;
  }

  toString(): string {
    const { width: w, height: h } = this;
    const head = element("svg", {
      xmlns: "http://www.w3.org/2000/svg",
      width: w,
      height: h,
      viewBox: this.opts.viewBox === false ? undefined : `0 0 ${num(w)} ${num(h)}`,
      "font-family": this.opts.fontFamily ?? "sans-serif",
      "font-size": this.fontSize,
    }).replace(/\/>$/, ">");
    const bg = this.opts.background === null ? [] : [element("rect", { width: w, height: h, fill: this.opts.background ?? "white" })];
    const title = this.opts.title ? [element("title", {}, escapeXml(this.opts.title))] : [];
    return [head, ...title, ...bg, ...this.parts, "</svg>", ""].join("\n");
  }
}

export interface LegendEntry {
  label: string;
  stroke?: StrokeStyle;
  marker?: MarkerStyle;
}

export interface Point {
  x: number;
  y: number;
}

export interface AxisOptions {
  /** Tick values (default: the scale's ticks). */
  ticks?: readonly number[];
  format?: (v: number) => string;
  /** Draw a grid line at each tick in this colour. */
  grid?: string | false;
  /** Tick mark length in px, outwards (default 0: none). */
  tickSize?: number;
  /** Draw the axis line (default false). */
  line?: boolean | string;
  /** Distance of the labels from the box (x: baseline below the bottom; y: right edge left of the box). */
  labelGap?: number;
  size?: number;
}

export interface LabelItem {
  x: number;
  y: number;
  text: string;
  color?: string;
}

export class Axes {
  constructor(readonly fig: Figure, readonly box: Box, readonly x: Scale, readonly y: Scale) {}

  private px(p: Point): [number, number] {
    return Number.isFinite(p.x) && Number.isFinite(p.y) ? [this.x(p.x), this.y(p.y)] : [Number.NaN, Number.NaN];
  }

  /** The box outline. */
  frame(stroke = "#444", width = 1): this {
    const b = this.box;
    this.fig.add(element("rect", { x: b.left, y: b.top, width: b.right - b.left, height: b.bottom - b.top, fill: "none", stroke, "stroke-width": width }));
    return this;
  }

  /** Tick labels (and optional grid, tick marks, axis line) along the bottom. */
  xAxis(o: AxisOptions = {}): this {
    const b = this.box;
    const ticks = o.ticks ?? this.x.ticks();
    const fmt = o.format ?? formatTick;
    const gap = o.labelGap ?? 16 + (o.tickSize ?? 0);
    if (o.line) this.fig.line(b.left, b.bottom, b.right, b.bottom, { stroke: typeof o.line === "string" ? o.line : "#444" });
    for (const t of ticks) {
      const px = this.x(t);
      if (o.grid) this.fig.line(px, b.top, px, b.bottom, { stroke: o.grid });
      if (o.tickSize) this.fig.line(px, b.bottom, px, b.bottom + o.tickSize, { stroke: "#444" });
      this.fig.text(px, b.bottom + gap, fmt(t), { anchor: "middle", ...(o.size ? { size: o.size } : {}) });
    }
    return this;
  }

  /** Tick labels (and optional grid, tick marks, axis line) along the left side. */
  yAxis(o: AxisOptions = {}): this {
    const b = this.box;
    const ticks = o.ticks ?? this.y.ticks();
    const fmt = o.format ?? formatTick;
    const gap = o.labelGap ?? 6 + (o.tickSize ?? 0);
    const size = o.size ?? this.fig.fontSize;
    if (o.line) this.fig.line(b.left, b.top, b.left, b.bottom, { stroke: typeof o.line === "string" ? o.line : "#444" });
    for (const t of ticks) {
      const py = this.y(t);
      if (o.grid) this.fig.line(b.left, py, b.right, py, { stroke: o.grid });
      if (o.tickSize) this.fig.line(b.left - o.tickSize, py, b.left, py, { stroke: "#444" });
      this.fig.text(b.left - gap, py + size / 3, fmt(t), { anchor: "end", ...(o.size ? { size: o.size } : {}) });
    }
    return this;
  }

  /** Axis title centred under the box (baseline `y`, default 36 px below it). */
  xLabel(s: string, o: { y?: number; size?: number } = {}): this {
    this.fig.text((this.box.left + this.box.right) / 2, o.y ?? this.box.bottom + 36, s, { anchor: "middle", ...(o.size ? { size: o.size } : {}) });
    return this;
  }

  /** Axis title rotated along the left side (at `x`, default 42 px left of the box). */
  yLabel(s: string, o: { x?: number; size?: number } = {}): this {
    const x = o.x ?? this.box.left - 42;
    this.fig.text(x, (this.box.top + this.box.bottom) / 2, s, { anchor: "middle", rotate: -90, ...(o.size ? { size: o.size } : {}) });
    return this;
  }

  /** A polyline through data points; non-finite points break it. */
  line(points: readonly Point[], s: StrokeStyle): this {
    const d = pathData(points.map((p) => this.px(p)));
    if (d) this.fig.add(element("path", { d, fill: "none", stroke: s.stroke, "stroke-width": s.width ?? 1.5, "stroke-dasharray": s.dash, "stroke-opacity": s.opacity }));
    return this;
  }

  markers(points: readonly Point[], m: MarkerStyle = {}): this {
    for (const p of points) {
      const [x, y] = this.px(p);
      if (Number.isFinite(x) && Number.isFinite(y)) this.fig.add(marker(x, y, m));
    }
    return this;
  }

  /** Vertical bars from `lo` to `hi` at each `x`, with caps `cap` px wide on each side. */
  errorBars(bars: readonly { x: number; lo: number; hi: number }[], s: StrokeStyle & { cap?: number }): this {
    const cap = s.cap ?? 4;
    for (const b of bars) {
      if (![b.x, b.lo, b.hi].every(Number.isFinite)) continue;
      const x = this.x(b.x), y0 = this.y(b.lo), y1 = this.y(b.hi);
      const d = `M${num(x)},${num(y0)}L${num(x)},${num(y1)}` + (cap > 0 ? `M${num(x - cap)},${num(y0)}L${num(x + cap)},${num(y0)}M${num(x - cap)},${num(y1)}L${num(x + cap)},${num(y1)}` : "");
      this.fig.add(element("path", { d, fill: "none", stroke: s.stroke, "stroke-width": s.width ?? 1.2, "stroke-opacity": s.opacity }));
    }
    return this;
  }

  /** A horizontal line across the box at data value `y`. */
  hline(y: number, s: StrokeStyle): this {
    if (Number.isFinite(y)) this.fig.line(this.box.left, this.y(y), this.box.right, this.y(y), s);
    return this;
  }

  /** A vertical line across the box at data value `x`. */
  vline(x: number, s: StrokeStyle): this {
    if (Number.isFinite(x)) this.fig.line(this.x(x), this.box.top, this.x(x), this.box.bottom, s);
    return this;
  }

  /** Text at a data point. */
  text(x: number, y: number, s: string, o?: TextOptions): this {
    this.fig.text(this.x(x), this.y(y), s, o);
    return this;
  }

  /**
   * Labels next to data points that avoid each other: each goes right of its point, else left,
   * else is nudged up/down in steps of one text line; a label moved away from its point gets a
   * thin leader line. Labels stay inside the box where possible.
   */
  labels(items: readonly LabelItem[], o: { size?: number; offset?: number } = {}): this {
    const size = o.size ?? Math.max(11, this.fig.fontSize - 1);
    const off = o.offset ?? 7;
    const h = size * 1.15;
    const placed: { x0: number; x1: number; y0: number; y1: number }[] = [];
    const overlaps = (r: { x0: number; x1: number; y0: number; y1: number }) => placed.some((p) => r.x0 < p.x1 && r.x1 > p.x0 && r.y0 < p.y1 && r.y1 > p.y0);
    const b = this.box;
    const order = items
      .map((it) => ({ it, px: this.x(it.x), py: this.y(it.y) }))
      .filter((e) => Number.isFinite(e.px) && Number.isFinite(e.py))
      .sort((a, c) => a.py - c.py || a.px - c.px);
    // Reserve the points themselves so labels don't cover other markers.
    for (const e of order) placed.push({ x0: e.px - 4, x1: e.px + 4, y0: e.py - 4, y1: e.py + 4 });
    for (const { it, px, py } of order) {
      const w = textWidth(it.text, size);
      const candidates: { x: number; y: number; anchor: "start" | "end" }[] = [];
      for (let step = 0; step <= 6; step++) {
        for (const dir of step === 0 ? [0] : [1, -1]) {
          const dy = dir * step * h;
          candidates.push({ x: px + off, y: py + size * 0.35 + dy, anchor: "start" });
          candidates.push({ x: px - off, y: py + size * 0.35 + dy, anchor: "end" });
        }
      }
      const box = (c: { x: number; y: number; anchor: "start" | "end" }) => {
        const x0 = c.anchor === "start" ? c.x : c.x - w;
        return { x0, x1: x0 + w, y0: c.y - size * 0.85, y1: c.y + size * 0.25 };
      };
      const inside = (r: { x0: number; x1: number; y0: number; y1: number }) => r.x0 >= b.left && r.x1 <= b.right && r.y0 >= b.top && r.y1 <= b.bottom;
      const pick = candidates.find((c) => inside(box(c)) && !overlaps(box(c))) ?? candidates.find((c) => !overlaps(box(c))) ?? candidates[0];
      const r = box(pick);
      placed.push(r);
      if (Math.abs(pick.y - (py + size * 0.35)) > 1) {
        const lx = pick.anchor === "start" ? r.x0 - 1 : r.x1 + 1;
        this.fig.line(px, py, lx, (r.y0 + r.y1) / 2, { stroke: it.color ?? "#777", width: 0.7 });
      }
      this.fig.text(pick.x, pick.y, it.text, { anchor: pick.anchor, size, ...(it.color ? { fill: it.color } : {}) });
    }
    return this;
  }
}
