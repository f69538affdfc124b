/**
 * The WebGPU adapter as the engine reports it, and the rule that decides whether "auto" uses it.
 * Shared by both platform layers (no Node module, no DOM type beyond what is declared here).
 */

/** What `engineInfo().adapter` says about the GPU adapter the webgpu backend runs on. */
export interface GpuAdapterInfo {
  /** The adapter's vendor, e.g. "nvidia", "mesa" (may be empty: browsers may withhold it). */
  vendor: string;
  /** Its architecture, e.g. "hopper"; "software" for a CPU rasteriser such as Mesa's lavapipe. */
  architecture: string;
  /** Its device name, e.g. "llvmpipe-llvm-15-0-6-256-bits". */
  device: string;
  /** The driver's description, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)". */
  description: string;
  /** True for a fallback adapter: a software implementation, far slower than the wasm backend. */
  fallback: boolean;
}

/** The result of looking for a WebGPU adapter: the adapter, or why there is none. */
export type WebGpuProbe = { adapter: GpuAdapterInfo } | { adapter: null; reason: string };

/** The part of `navigator.gpu` the engine uses. */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: "high-performance" | "low-power" }): Promise<AdapterLike | null>;
}

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/**
 * Ask `gpu` for the adapter jax-js will use (it asks for "high-performance" too) and describe it.
 * Never throws: a failing request is a reason.
 */
export async function probeAdapter(gpu: GpuLike, where: string): Promise<WebGpuProbe> {
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { adapter: null, reason: `${where}: requestAdapter failed: ${(e as Error).message}` };
  }
  if (adapter === null) return { adapter: null, reason: `${where} offers no GPU adapter (no WebGPU-capable driver found)` };
  const info = adapter.info ?? {};
  return {
    adapter: {
      vendor: info.vendor ?? "",
      architecture: info.architecture ?? "",
      device: info.device ?? "",
      description: info.description ?? "",
      fallback: info.isFallbackAdapter === true || adapter.isFallbackAdapter === true,
    },
  };
}

/**
 * Whether "auto" should compute on this adapter: not a fallback and not a software rasteriser
 * (architecture "software", or a llvmpipe/lavapipe/SwiftShader device). Those run the GPU's work
 * on the CPU, several times slower than the wasm backend on the same cores.
 */
export function isHardwareAdapter(a: GpuAdapterInfo): boolean {
  if (a.fallback || a.architecture === "software") return false;
  return !/llvmpipe|lavapipe|swiftshader/i.test(`${a.device} ${a.description}`);
}

/** One line for logs: "mesa software llvmpipe-... (llvmpipe: Mesa 25.0.7 ...)". */
export function describeAdapter(a: GpuAdapterInfo): string {
  const name = [a.vendor, a.architecture, a.device].filter((s) => s !== "").join(" ") || "unnamed adapter";
  return a.description !== "" ? `${name} (${a.description})` : name;
}
