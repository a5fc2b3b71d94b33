// `npm run notebooks`: writes every notebook from its source (notebooks/src/NN-name.py holds the
// cells as plain text, reviewed in diffs), executes it headless with the real tslab kernel through
// Jupyter's own client, saves the outputs into the notebook and writes each figure as SVG and PNG
// under notebooks/figures/. Installs the Debian Jupyter packages when they
// are missing and we are root; registers a project-local tslab kernelspec under .jupyter/ and
// points JUPYTER_PATH there (nothing is written to the user's Jupyter config). For Jupyter by
// hand: `JUPYTER_PATH=$PWD/.jupyter/share/jupyter jupyter notebook` after one run of this script.
// Usage: node scripts/run-notebooks.js [--out DIR] [NOTEBOOK...] (names like 01-fabric; default: all),
// or --kernel-only (register the kernelspec, run nothing);
// notebooks run one per core at a time.
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const python = "/usr/bin/python3";
const debianPackages = ["jupyter-nbconvert", "python3-nbclient", "python3-ipykernel", "jupyter-client", "fonts-dejavu-core"];

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function jupyterPresent() {
  return spawnSync(python, ["-c", "import nbclient, nbformat, jupyter_client"], { stdio: "ignore" }).status === 0;
}

function ensureJupyter() {
  if (jupyterPresent()) return;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) {
    console.error(`Jupyter's client is missing. Install it with:\n  sudo apt-get install -y ${debianPackages.join(" ")}`);
    process.exit(1);
  }
  console.log(`installing ${debianPackages.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (run("apt-get", ["update", "-qq"], { env }) !== 0 || run("apt-get", ["install", "-y", "-qq", ...debianPackages], { env }) !== 0) {
    console.error("apt-get failed: install the packages above by hand");
    process.exit(1);
  }
}

/** The project-local Jupyter folders (kernelspec, config, runtime). */
const base = join(root, ".jupyter");

/** The environment of the kernels: Jupyter's folders under `base`, figures written to `figures`. */
function jupyterEnv(figures) {
  return {
    ...process.env,
    JUPYTER_PATH: join(base, "share", "jupyter"),
    JUPYTER_CONFIG_DIR: join(base, "config"),
    JUPYTER_DATA_DIR: join(base, "data"),
    JUPYTER_RUNTIME_DIR: join(base, "runtime"),
    IPYTHONDIR: join(base, "ipython"),
    P2PDMA_LAB_FIGURES: figures,
  };
}

// The kernelspec that `tslab install --prefix` would write, plus Node's require(esm) flag: tslab
// loads modules with require(), and this package, Plot and d3 are ES modules.
function installKernel(base) {
  const dir = join(base, "share", "jupyter", "kernels", "tslab");
  mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [process.execPath, "--experimental-require-module", "--no-warnings=ExperimentalWarning", join(root, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (p2pdma-lab)",
    language: "typescript",
  };
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(spec, null, 1) + "\n");
}

const args = process.argv.slice(2);
if (args[0] === "--kernel-only") {
  // Registers the kernelspec for an editor (JupyterLab, VS Code) without running any notebook.
  installKernel(base);
  console.log(`kernel "TypeScript (p2pdma-lab)" registered; start your editor with JUPYTER_PATH=${join(base, "share", "jupyter")}`);
  process.exit(0);
}
let outDir;
if (args[0] === "--out") {
  outDir = resolve(args[1]);
  args.splice(0, 2);
}
const notebooksDir = join(root, "notebooks");
// Notebooks by name ("01-fabric"), from the arguments or every source in notebooks/src.
const names = args.length
  ? args.map((a) => a.split("/").pop().replace(/\.(ipynb|py)$/, ""))
  : readdirSync(join(notebooksDir, "src")).filter((f) => f.endsWith(".py")).sort().map((f) => f.slice(0, -3));
const figures = outDir ? join(outDir, "figures") : join(notebooksDir, "figures");
mkdirSync(figures, { recursive: true });

ensureJupyter();
// The sources are the truth: each notebook is written afresh from notebooks/src before it runs
// (into --out when given, so a test run leaves the committed notebooks alone).
const notebooks = names.map((name) => join(outDir ?? notebooksDir, `${name}.ipynb`));
if (outDir) mkdirSync(outDir, { recursive: true });
for (const [i, name] of names.entries()) {
  if (run(python, [join(notebooksDir, "src", `${name}.py`), notebooks[i]]) !== 0) {
    console.error(`cannot write ${notebooks[i]} from notebooks/src/${name}.py`);
    process.exit(1);
  }
}
const env = jupyterEnv(figures);
installKernel(base);
// Notebooks run in parallel kernels, one group per core (P2PDMA_LAB_NOTEBOOK_JOBS overrides): each
// is single-threaded, and they share nothing but the figures folder (each writes its own names).
const jobs = Math.max(1, Math.min(notebooks.length, Number(process.env.P2PDMA_LAB_NOTEBOOK_JOBS) || availableParallelism()));
const groups = Array.from({ length: jobs }, (_, g) => notebooks.filter((_n, i) => i % jobs === g));
const started = Date.now();
const statuses = await Promise.all(groups.map((group) => new Promise((done, fail) => {
  const child = spawn(python, [join(root, "scripts", "execute_notebooks.py"), "--cwd", notebooksDir, ...group], { env, cwd: root, stdio: "inherit" });
  child.on("error", fail);
  child.on("close", (code) => done(code ?? 1));
})));
console.log(`${notebooks.length} notebook(s) in ${((Date.now() - started) / 1000).toFixed(1)} s (${jobs} at a time); figures in ${figures}`);
process.exitCode = statuses.some((s) => s !== 0) ? 1 : 0;
