// Bundles the client into dist/: index.html, and assets/ whose names carry a
// hash of their content, so the server may let browsers keep them for a year
// while index.html (which names them) is never cached.
import { build } from "esbuild";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";

const dist = new URL("./dist/", import.meta.url);
await rm(dist, { recursive: true, force: true });
await mkdir(new URL("./assets/", dist), { recursive: true });

const result = await build({
  entryPoints: ["src/main.tsx"],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["chrome109", "firefox115"],
  outdir: "dist/assets",
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs);
const script = outputs.find((p) => p.endsWith(".js"));
const style = outputs.find((p) => p.endsWith(".css"));
if (!script || !style) throw new Error("esbuild made no script or no stylesheet");

// The page the server sends a signed-in browser; everything it runs is in assets/.
// The server puts who is signed in, and «Выйти», at the marker: what the page
// shows until the script has loaded, or without scripts.
const html = `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Звонок</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 100 100'%3E%3Ctext y='.9em' font-size='90'%3E%F0%9F%94%94%3C/text%3E%3C/svg%3E">
<link rel="stylesheet" href="/assets/${basename(style)}">
<script type="module" src="/assets/${basename(script)}"></script>
</head>
<body>
<div id="app"><!--zvonok:signed-in--><noscript>Для работы Звонка нужен JavaScript.</noscript></div>
</body>
</html>
`;
await writeFile(new URL("./index.html", dist), html);
