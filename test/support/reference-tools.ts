import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The reference tools some tests compare against: Debian's python3 with pydicom, GDCM, OpenCV,
 * scikit-learn, PyTorch and torchvision (ONNX exports for the weight import), and Debian's Chromium for the dashboard's browser test. README.md (Set-up) gives the one
 * command that installs them. A test that needs a missing tool is skipped with that command as the
 * reason (`test(name, { skip: needs('pydicom') }, ...)`); with PIPELINE_REQUIRE_REFERENCE_TOOLS=1
 * (set by .ci/run) a missing tool fails the test file instead, so CI can never skip them silently.
 */

/** Debian's python (with the python3-* packages below), not a pyenv/conda python first on PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';

/** Tool -> [python module to find, Debian package]. */
const PYTHON_MODULES = {
  numpy: ['numpy', 'python3-numpy'],
  pydicom: ['pydicom', 'python3-pydicom'],
  gdcm: ['gdcm', 'python3-gdcm'],
  opencv: ['cv2', 'python3-opencv'],
  sklearn: ['sklearn', 'python3-sklearn'],
  torch: ['torch', 'python3-torch'],
  torchvision: ['torchvision', 'python3-torchvision'],
} as const;

export type ReferenceTool = keyof typeof PYTHON_MODULES | 'chromium';

/** Servers and tools the queue tests start themselves (test/support/redis-server.ts): Redis and openssl for a TLS certificate. */
export const SERVICE_PACKAGES = ['redis-server', 'openssl'];

/** Every package the tests' reference tools and services come from (README.md and .ci/run install exactly these). */
export const REFERENCE_PACKAGES = [...Object.values(PYTHON_MODULES).map(([, pkg]) => pkg), 'chromium', ...SERVICE_PACKAGES];
export const INSTALL_COMMAND = `sudo apt-get install -y ${REFERENCE_PACKAGES.join(' ')}`;

let found: Record<string, boolean> | undefined;

function pythonModules(): Record<string, boolean> {
  if (found) return found;
  const modules = Object.values(PYTHON_MODULES).map(([module]) => module);
  // find_spec locates a module without importing it (cheap); a missing python finds nothing.
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import importlib.util, json, sys; print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))', ...modules], { encoding: 'utf8' });
  found = probe.status === 0 ? (JSON.parse(probe.stdout) as Record<string, boolean>) : Object.fromEntries(modules.map((m) => [m, false]));
  return found;
}

/** The tools of `tools` that are not installed. */
export function missingTools(...tools: ReferenceTool[]): ReferenceTool[] {
  return tools.filter((tool) => (tool === 'chromium' ? !existsSync(CHROMIUM) : !pythonModules()[PYTHON_MODULES[tool][0]]));
}

/**
 * `false` when every tool is installed, else the skip reason naming the missing Debian packages and
 * the command that installs them. Throws instead when PIPELINE_REQUIRE_REFERENCE_TOOLS=1.
 */
export function needs(...tools: ReferenceTool[]): string | false {
  const missing = missingTools(...tools);
  if (!missing.length) return false;
  const packages = missing.map((tool) => (tool === 'chromium' ? 'chromium' : PYTHON_MODULES[tool][1]));
  const reason = `needs Debian's ${packages.join(', ')} (${missing.includes('chromium') ? CHROMIUM : DEBIAN_PYTHON}); install the reference tools with: ${INSTALL_COMMAND}`;
  if (process.env.PIPELINE_REQUIRE_REFERENCE_TOOLS === '1') throw new Error(`PIPELINE_REQUIRE_REFERENCE_TOOLS=1 and this test ${reason}`);
  return reason;
}

/**
 * timm is no Debian package: `.ci/install-timm` installs its wheels from a local folder into .ci/pylib
 * (gitignored), which the timm tests put on PYTHONPATH. It is not required under
 * PIPELINE_REQUIRE_REFERENCE_TOOLS=1, since not every machine has the wheels; .ci/run sets
 * PIPELINE_REQUIRE_TIMM=1 when it installed them, and then a missing timm fails instead of skipping.
 */
export const TIMM_PYTHONPATH = fileURLToPath(new URL('../../.ci/pylib', import.meta.url));
export const TIMM_INSTALL_COMMAND = 'bash .ci/install-timm [folder with the wheels timm-1.0.29, huggingface_hub-1.33.0, safetensors; default /opt/pypi/files]';

/** `false` when Debian's torch/torchvision and timm (from .ci/pylib) are importable, else the skip reason. */
export function needsTimm(): string | false {
  const base = needs('torch', 'torchvision');
  if (base) return base;
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import importlib.util; print(importlib.util.find_spec("timm") is not None)'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: TIMM_PYTHONPATH } });
  if (probe.stdout.trim() === 'True') return false;
  const reason = `needs timm for ${DEBIAN_PYTHON} in ${TIMM_PYTHONPATH}; install it with: ${TIMM_INSTALL_COMMAND}`;
  if (process.env.PIPELINE_REQUIRE_TIMM === '1') throw new Error(`PIPELINE_REQUIRE_TIMM=1 and this test ${reason}`);
  return reason;
}
