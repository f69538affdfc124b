/**
 * WebGPU for Node.js through Dawn: the optional package `webgpu` (Dawn's Node binding, about
 * 21 MB of native code per platform, so an optional peer dependency, not a dependency) gives a
 * `navigator.gpu`. `installDawn()` imports it only when asked, installs its globals
 * (`GPUBufferUsage`, ...) and `navigator.gpu` before jax-js initialises its webgpu backend, and
 * reports the adapter. $PROPETL_DAWN_FLAGS (comma-separated Dawn toggles, e.g.
 * "backend=vulkan" or "adapter=NVIDIA") is passed to Dawn's `create`.
 */
import { probeAdapter } from "./gpu-adapter.js";
import type { GpuLike, WebGpuProbe } from "./gpu-adapter.js";
import { ensureNavigator } from "./node-workers.js";

/** The part of the `webgpu` package's exports used here. */
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** The package name; a variable so that TypeScript does not tie the build to its types. */
const DAWN_PACKAGE = "webgpu";

/** What to do when the package is missing (part of the error `--backend webgpu` gives). */
export const DAWN_INSTALL_HINT = `install Dawn's Node binding: npm install ${DAWN_PACKAGE} (an optional peer dependency of propetl; about 21 MB)`;

function currentGpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu;
}

/** Dawn flags from $PROPETL_DAWN_FLAGS ("a=b,c=d"; empty: Dawn's defaults). */
export function dawnFlags(env: string | undefined = process.env.PROPETL_DAWN_FLAGS): string[] {
  return (env ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

let installed: Promise<WebGpuProbe> | null = null;

/**
 * Give Node a `navigator.gpu` and describe its adapter. A `navigator.gpu` that is already there
 * (the application installed one) is used as it is; otherwise `load` decides whether Dawn is
 * imported (false: no adapter, with the reason). Never throws: a missing package or a machine
 * without a WebGPU-capable Vulkan/Metal/D3D12 driver is a reason.
 */
export function installDawn(load: boolean): Promise<WebGpuProbe> {
  const gpu = currentGpu();
  if (gpu !== undefined) return probeAdapter(gpu, "navigator.gpu");
  if (!load) return Promise.resolve({ adapter: null, reason: "Node has no navigator.gpu unless the webgpu backend is asked for" });
  installed ??= (async (): Promise<WebGpuProbe> => {
    let dawn: DawnModule;
    try {
      dawn = (await import(DAWN_PACKAGE)) as DawnModule;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ERR_MODULE_NOT_FOUND") return { adapter: null, reason: `the package "${DAWN_PACKAGE}" is not installed; ${DAWN_INSTALL_HINT}` };
      return { adapter: null, reason: `the package "${DAWN_PACKAGE}" failed to load: ${(e as Error).message}` };
    }
    const g = globalThis as Record<string, unknown>;
    for (const [name, value] of Object.entries(dawn.globals)) if (g[name] === undefined) g[name] = value;
    ensureNavigator();
    const created = dawn.create(dawnFlags());
    Object.defineProperty(g.navigator as object, "gpu", { value: created, configurable: true, enumerable: true });
    return probeAdapter(created, `Dawn (${DAWN_PACKAGE})`);
  })();
  return installed;
}
