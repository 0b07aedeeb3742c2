// Copy the browser builds of our npm packages into static/vendor (ignored by git).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

const files = {
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
  "echarts/LICENSE": "echarts/LICENSE",
  "htmx.org/LICENSE": "htmx/LICENSE",
};
for (const [from, to] of Object.entries(files)) {
  const target = join("static/vendor", to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join("node_modules", from), target);
}
console.log(`static/vendor: ${Object.keys(files).length} files`);
