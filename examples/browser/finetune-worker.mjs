// The demo's Web Worker: its own engine, a short fine-tuning (fine-tune-steps.mjs), progress
// messages per step, and the trained task's files sent back to the page.
import { initEngine, engineInfo } from "propetl";
import { fineTuneSteps } from "./fine-tune-steps.mjs";

self.onmessage = async ({ data }) => {
  try {
    await initEngine();
    self.postMessage({ type: "engine", info: engineInfo() });
    const { losses, files } = await fineTuneSteps({
      modelUrl: data.modelUrl,
      examples: data.examples,
      labels: data.labels,
      steps: data.steps,
      onStep: (s) => self.postMessage({ type: "step", ...s }),
    });
    self.postMessage({ type: "done", losses, files, engine: engineInfo() }, [files.adapterConfig.buffer, files.weights.buffer]);
  } catch (e) {
    self.postMessage({ type: "error", message: String(e && e.stack ? e.stack : e) });
  }
};
