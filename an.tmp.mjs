import * as esbuild from "esbuild";
const r = await esbuild.build({ entryPoints: [process.argv[2]], bundle: true, platform: "browser", format: "esm", write: false, metafile: true, logLevel: "silent" }).catch(e => e);
const errs = r.errors ?? [];
const byImporter = new Map();
for (const e of errs) { const k = e.location?.file ?? "?"; byImporter.set(k, (byImporter.get(k) ?? []).concat(e.text.slice(0, 80))); }
for (const [k, v] of byImporter) console.log(k, "::", [...new Set(v.map(t => (t.match(/"[^"]+"/) ?? [t])[0]))].join(" "));
if (r.metafile) console.log("OK", Object.keys(r.metafile.inputs).length);
