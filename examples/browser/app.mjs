// The demo page (index.html): propetl's browser build, bundled by build.mjs.
// One backbone is loaded once; every task is a classifier over it. `window.propetlDemo` is the
// same API the buttons use, for scripts and for test/browser/demo.test.ts.
import { initEngine, engineInfo, loadBackboneFromUrl, loadTaskCheckpointFromBytes, taskClassifier } from "propetl";

const MODEL_URL = new URL("../../models/propetl-mini/", location.href);
/** The task folders next to this page: two ProPETL tasks and, for the size comparison, a plain adapter. */
const TASKS = [
  { name: "spam", dir: "tasks/spam/" },
  { name: "sotu-party", dir: "tasks/sotu-party/" },
  { name: "spam (plain adapter)", dir: "tasks/spam-adapter/" },
];
const FILES = ["adapter_config.json", "adapter_model.safetensors"];

const $ = (id) => document.getElementById(id);
const tasks = new Map(); // name -> { classifier, checkpoint, sizes, method }
let backbone = null;

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Add a task from its two files' bytes: the sizes table, the task list, a classifier over the one backbone. */
async function addTask(name, files, source) {
  const checkpoint = await loadTaskCheckpointFromBytes(files, { source, encoderConfig: backbone.config });
  const classifier = taskClassifier(backbone, checkpoint);
  const sizes = [files.adapterConfig.length, files.weights.length];
  const entry = { name, classifier, checkpoint, sizes, method: checkpoint.config.method };
  tasks.set(name, entry);
  const row = document.createElement("tr");
  for (const cell of [name, entry.method, ...sizes.map(kb), kb(sizes[0] + sizes[1])]) {
    const td = document.createElement("td");
    td.textContent = cell;
    row.append(td);
  }
  $("sizes").tBodies[0].append(row);
  const option = new Option(name, name);
  $("task").append(option);
  return entry;
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function load() {
  await initEngine();
  const info = engineInfo();
  $("engine").textContent = `Engine: ${info.backend}${info.backend === "wasm" ? ` with ${info.threads} thread(s)${globalThis.crossOriginIsolated ? " (cross-origin isolated page)" : " (page not cross-origin isolated: 1 thread)"}` : ""}.`;
  const t0 = performance.now();
  backbone = await loadBackboneFromUrl(MODEL_URL);
  for (const t of TASKS) {
    const base = new URL(t.dir, location.href);
    const [adapterConfig, weights] = await Promise.all(FILES.map((f) => fetchBytes(new URL(f, base))));
    await addTask(t.name, { adapterConfig, weights }, base.href);
  }
  $("status").textContent = `Backbone and ${tasks.size} tasks loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
  for (const id of ["task", "classify", "finetune"]) $(id).disabled = false;
  return { engine: info, tasks: [...tasks.values()].map((t) => ({ name: t.name, method: t.method, bytes: t.sizes })) };
}

/** Predictions of one task for texts (the task's classifier; the backbone is shared). */
async function classify(name, texts) {
  const t = tasks.get(name);
  if (!t) throw new Error(`no task "${name}"; tasks: ${[...tasks.keys()].join(", ")}`);
  return t.classifier.predict(texts);
}

/** Logits (N × labels, row-major) of one task for texts: what predictions are made from. */
async function logits(name, texts) {
  const t = tasks.get(name);
  if (!t) throw new Error(`no task "${name}"; tasks: ${[...tasks.keys()].join(", ")}`);
  return [...(await t.classifier.logits(texts))];
}

/** Fine-tune in a Web Worker; progress goes to the progress bar, the trained task joins the list. */
function fineTune({ steps = 12 } = {}) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./finetune-worker.js", import.meta.url), { type: "module" });
    const losses = [];
    $("losses").textContent = "";
    $("progress").value = 0;
    $("finetune").disabled = true;
    const finish = (f) => (...a) => { worker.terminate(); $("finetune").disabled = false; f(...a); };
    worker.onerror = finish((e) => reject(new Error(e.message)));
    worker.onmessage = async ({ data }) => {
      if (data.type === "engine") $("losses").textContent = `worker engine: ${data.info.backend}, ${data.info.threads} thread(s)\n`;
      else if (data.type === "step") {
        losses.push(data.loss);
        $("progress").max = data.totalSteps;
        $("progress").value = data.step;
        $("losses").textContent += `step ${data.step}/${data.totalSteps}: loss ${data.loss.toFixed(4)}\n`;
      } else if (data.type === "error") finish(reject)(new Error(data.message));
      else if (data.type === "done") {
        try {
          const name = `spam (fine-tuned here, ${losses.length} steps)`;
          await addTask(name, data.files, "the worker");
          finish(resolve)({ losses, engine: data.engine, task: name, bytes: [data.files.adapterConfig.length, data.files.weights.length] });
        } catch (e) {
          finish(reject)(e);
        }
      }
    };
    fetch("dist/finetune-examples.json")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`dist/finetune-examples.json: HTTP ${r.status}`))))
      .then((data) => worker.postMessage({ modelUrl: MODEL_URL.href, steps, ...data }))
      .catch(finish(reject));
  });
}

function showError(e) {
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = String(e && e.stack ? e.stack : e);
  document.body.append(p);
}

const ready = load();
ready.catch(showError);
window.propetlDemo = { ready, classify, logits, fineTune, engineInfo };

$("classify").onclick = async () => {
  try {
    const [p] = await classify($("task").value, [$("text").value]);
    $("prediction").textContent =
      p.kind === "classification" ? `${p.label} (${p.probs.map((x) => x.toFixed(3)).join(" / ")})` : `score ${p.value.toFixed(3)}`;
  } catch (e) {
    showError(e);
  }
};
$("finetune").onclick = () => fineTune().catch(showError);
