"""A model file run by the WebAssembly runtime in headless Chromium: the web target's Runner.

:class:`WebModel` serves the folder holding the file (a web export's ``web/``: lgrin.js and the .wasm
builds beside the model), loads the runtime and the model once in a real Chromium (:class:`Browser`),
and runs batches there through lgrin.js; inputs and logits cross as base64 float32 bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.export.runner import Runner
from lgrin_edge.web.browser import Browser, from_base64, to_base64

BUILDS = ("auto", "simd128", "portable")

# Loads the runtime and the model into the page once; the page keeps them for every later call.
_LOAD = """async (build, name) => {
  const {loadRuntime} = await import('/lgrin.js');
  const runtime = await loadRuntime({build});
  const response = await fetch(name);
  if (!response.ok) throw new Error(`cannot fetch ${name}: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  let model;
  try {
    model = runtime.loadModel(bytes);
  } catch (e) {
    return {refused: String(e.message || e)};  // the C runtime's reason: the file is wrong, not the page
  }
  globalThis.lgrinWebModel = model;
  return {build: runtime.build, family: runtime.family, wasmBytes: runtime.wasmBytes,
          modelBytes: bytes.byteLength, kernels: model.kernels, precision: model.precision,
          numNodes: model.numNodes, numFeatures: model.numFeatures, numClasses: model.numClasses};
}"""

_RUN = """async (x, batch) => {
  const input = new Float32Array(b64decode(x).buffer);
  return b64encode(globalThis.lgrinWebModel.run(input, batch));
}"""


class WebModel(Runner):
    """The model file at ``path`` run in headless Chromium by the runtime compiled to WebAssembly.

    The folder holding ``path`` must hold lgrin.js and the .wasm builds (a web export's ``web/``).
    ``build``: "simd128", "portable", or "auto" (lgrin.js picks simd128 where the browser validates it).
    WebAssembly here runs on one thread: ``num_threads`` is checked, and kept only for the contract.
    Use as a context manager or call :meth:`close` (the browser also goes when the object does).
    """

    max_batch = 256  # graphs per WebDriver call: a few hundred kB of base64 each way

    def __init__(self, path: Path, num_threads: int = 1, build: str = "auto") -> None:
        self.path = Path(path)
        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        if build not in BUILDS:
            raise ValueError(f"build must be one of {', '.join(BUILDS)}, got {build!r}")
        if not self.path.is_file():
            raise UserError(f"model file {self.path} does not exist")
        if not (self.path.parent / "lgrin.js").is_file():
            raise UserError(
                f"no lgrin.js beside {self.path}: the web runtime runs a model from a web export's folder "
                "(lgrin_edge.web.build.write_bundle writes lgrin.js and the .wasm builds)"
            )
        self.num_threads = num_threads
        self._browser: Browser | None = None
        self._browser = Browser(self.path.parent)
        try:
            self._browser.open_blank()
            info = self._browser.run(_LOAD, build, self.path.name)
            if "refused" in info:
                raise UserError(f"cannot load web model {self.path}: {info['refused']}")
        except BaseException:
            self.close()
            raise
        self.build = info["build"]
        self.family = info["family"]
        self.kernels = info["kernels"]
        self.precision = info["precision"]
        self.num_nodes, self.num_features = int(info["numNodes"]), int(info["numFeatures"])
        self.num_classes = int(info["numClasses"])
        self.input_shape = (self.num_nodes, self.num_features)
        self._download_bytes = int(info["wasmBytes"]) + int(info["modelBytes"])

    @property
    def browser(self) -> Browser:
        """The browser running the model (RuntimeError once closed)."""
        if self._browser is None:
            raise RuntimeError(f"the web model {self.path} is closed")
        return self._browser

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        if len(chunk) == 0:
            return np.empty((0, self.num_classes), np.float32)
        logits = from_base64(self.browser.run(_RUN, to_base64(chunk), len(chunk)))
        if logits.size != len(chunk) * self.num_classes:
            raise RuntimeError(f"the web runtime returned {logits.size} logits for {len(chunk)} graphs")
        return logits.reshape(len(chunk), self.num_classes)

    def facts(self) -> dict:
        return {
            "browser": self.browser.version,
            "wasm_build": self.build,
            "kernels": self.kernels,
            "download_bytes": self._download_bytes,
        }

    def close(self) -> None:
        """Close the browser; safe to call more than once."""
        if getattr(self, "_browser", None) is not None:
            self._browser.close()
            self._browser = None

    def __enter__(self) -> WebModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
