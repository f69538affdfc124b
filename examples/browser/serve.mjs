// A static server for the demo: serves the repository (the page, the bundled scripts, the model
// folder and the task files) on 127.0.0.1 with the headers that make the page cross-origin
// isolated (COOP same-origin + COEP require-corp), so the wasm engine may use worker threads.
// Usage: node examples/browser/serve.mjs [--port 8080]   then open the printed URL.
import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".wasm": "application/wasm", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml" };

/** Start the server; resolves to { url (the demo page), close() }. */
export function startDemoServer({ port = 8080, host = "127.0.0.1", root = ROOT } = {}) {
  const server = http.createServer((req, res) => {
    let file;
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
      file = path.resolve(root, "." + pathname);
      if (file !== root && !file.startsWith(root + path.sep)) throw new Error("outside the root");
      if (statSync(file).isDirectory()) file = path.join(file, "index.html");
      statSync(file);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
      "cache-control": "no-store",
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolve({ url: `http://${host}:${p}/examples/browser/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--port");
  const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a port number, got ${process.argv[i + 1]}`);
  const { url } = await startDemoServer({ port });
  console.log(`propetl browser demo: ${url}  (Ctrl-C to stop)`);
}
