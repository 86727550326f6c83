// npm ci in server/web runs this (postinstall): copies the files of the
// pages' libraries that a page loads to server/web/vendor/<name>-<version>/,
// the path the compiled-in copy has them under (CMakeLists.txt), so that
// marketd --web-root server/web serves them too. The copy is not committed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'web');
const files = { uplot: ['dist/uPlot.iife.min.js', 'dist/uPlot.min.css'] };

fs.rmSync(path.join(web, 'vendor'), { recursive: true, force: true });
for (const [name, list] of Object.entries(files)) {
  const pkg = path.join(web, 'node_modules', name);
  const { version } = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
  const dir = path.join(web, 'vendor', `${name}-${version}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of list) fs.copyFileSync(path.join(pkg, f), path.join(dir, path.basename(f)));
}
