// Many tasks from one backbone without HTTP: the router `propetl serve` runs, used from a Node
// program. Every task checkpoint under TASKS_DIR is available by its folder name; requests for
// different tasks are micro-batched, and tasks load into an LRU cache on first use.
//
//   node examples/serve.mjs TASKS_DIR TASK "text" ["text" ...]
//
// TASKS_DIR holds task checkpoints trained on the bundled backbone (e.g. runs/, after
// examples/fine-tune.mjs). Over HTTP the same is `propetl serve --tasks TASKS_DIR`.
import { bundledModelDir, createTaskRouter } from "propetl";

const [tasksDir, task, ...texts] = process.argv.slice(2);
if (!tasksDir || !task || texts.length === 0) {
  console.error('usage: node examples/serve.mjs TASKS_DIR TASK "text" ["text" ...]');
  process.exit(2);
}
const router = await createTaskRouter({ modelDir: bundledModelDir(), tasksDir });
try {
  console.log(`tasks: ${router.listTasks().map((t) => t.name).join(", ")}`);
  // Concurrent requests are batched together.
  const responses = await Promise.all(texts.map((text) => router.classify({ task, inputs: [text] })));
  responses.forEach((r, i) => console.log(JSON.stringify({ text: texts[i], ...r.results[0] })));
} finally {
  await router.close();
}
