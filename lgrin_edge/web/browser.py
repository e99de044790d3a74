"""A real headless Chromium driven from Python: a static server for a folder, ChromeDriver, W3C WebDriver.

:class:`Browser` serves a folder on 127.0.0.1 (``.wasm`` as application/wasm, no caching), starts
ChromeDriver on a free port and opens one Chromium session through the W3C WebDriver HTTP protocol,
spoken with the standard library (urllib). Scripts run as async functions (:meth:`Browser.run`); the
console's errors, screenshots and the browser's version come back. Large arrays cross the protocol as
base64 strings of their bytes (:func:`to_base64`, :func:`from_base64`, and ``b64decode``/``b64encode``
inside scripts), never as JSON lists of numbers.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError

INSTALL_HINT = "no Chromium/ChromeDriver: apt install chromium chromium-driver"

# Headless Chromium as root in a closed network: without the background-networking flags it keeps
# trying to reach Google's services.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FAKE_AUDIO_FLAGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")

# The address of an empty page of the server's origin (unless root holds a file of that name).
BLANK_PAGE = "lgrin-blank.html"

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".lgrn": "application/octet-stream",
    ".npz": "application/octet-stream",
}

# The wrapper every script runs in: WebDriver's async execution passes the callback last; the result
# (or the error's stack) comes back as {ok, value | error} so that a JS error is told from a driver error.
_RUN_WRAPPER = """
const done = arguments[arguments.length - 1];
const args = Array.prototype.slice.call(arguments, 0, -1);
const b64decode = (s) => {
  const text = atob(s);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
};
const b64encode = (view) => {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
};
(async () => { const fn = (__FN__); return await fn(...args); })().then(
  (value) => done({ok: true, value: value === undefined ? null : value}),
  (e) => done({ok: false, error: String((e && e.stack) || e)}));
"""

# A function expression (async or not, arrow or not); anything else is taken as a function body.
_FUNCTION_TEXT = re.compile(r"\s*(async\b\s*)?(function\b|\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)")


def find_tools() -> tuple[str | None, str | None]:
    """Paths of Chromium ($LGRIN_CHROMIUM, /usr/bin/chromium, `chromium` on PATH) and ChromeDriver
    ($LGRIN_CHROMEDRIVER, `chromedriver` on PATH); None for one that is not found."""
    chromium = os.environ.get("LGRIN_CHROMIUM")
    if not chromium:
        chromium = (
            "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
        )
    driver = os.environ.get("LGRIN_CHROMEDRIVER") or shutil.which("chromedriver")
    exists = lambda p: p if p and os.access(p, os.X_OK) else None  # noqa: E731
    return exists(chromium), exists(driver)


def chromium_status() -> tuple[bool, str]:
    """(True, "") where Chromium and ChromeDriver are installed, else (False, what to install)."""
    chromium, driver = find_tools()
    return (True, "") if chromium and driver else (False, INSTALL_HINT)


def to_base64(x: np.ndarray, dtype: type = np.float32) -> str:
    """The little-endian bytes of ``x`` as ``dtype`` in base64 (``b64decode`` in a script reads them)."""
    return base64.b64encode(
        np.ascontiguousarray(x, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    ).decode()


def from_base64(text: str, dtype: type = np.float32) -> np.ndarray:
    """The inverse of :func:`to_base64` (what ``b64encode`` in a script returns), as a flat array."""
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the types browsers insist on (compileStreaming needs application/wasm), never
    cached (a rebuilt bundle is served at once), without a log line per request."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        **MIME_TYPES,
    }

    def send_head(self) -> Any:
        path = self.path.split("?")[0]
        if path in ("/favicon.ico", f"/{BLANK_PAGE}") and not Path(self.translate_path(path)).exists():
            # a page of this origin that runs nothing (Browser.open_blank); no favicon.ico: an empty
            # answer, so that the browser logs no failed load for it
            body = b"<!doctype html><title>lgrin</title>" if path != "/favicon.ico" else b""
            self.send_response(200 if body else 204)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StaticServer:
    """``root`` over http://127.0.0.1:<free port>/, served by a daemon thread until :meth:`close`."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="lgrin-web", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Driver:
    """A ChromeDriver process on a free port and the W3C WebDriver requests to it."""

    def __init__(self, executable: str, log_path: Path) -> None:
        self.port = _free_port()
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed by close())
        # its own process group: Chromium's processes, its children, go with it even if it dies first
        self.proc = subprocess.Popen(
            [executable, f"--port={self.port}"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # no proxy for 127.0.0.1, whatever the environment says
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromedriver exited with code {self.proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                if self.request("GET", "/status", timeout_s=2).get("ready"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"chromedriver did not become ready in {timeout_s:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def request(self, method: str, path: str, body: dict | None = None, timeout_s: float = 60.0) -> Any:
        """The ``value`` of a WebDriver response; RuntimeError with the driver's error and message."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with self._opener.open(req, timeout=timeout_s) as resp:
                payload = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            payload = json.loads(e.read() or b"{}")
            value = payload.get("value") or {}
            error = str(value.get("error", e.code))
            message = (str(value.get("message") or "").splitlines() or [""])[0]
            text = message if message.startswith(error) else f"{error}: {message}"
            raise RuntimeError(f"WebDriver {method} {path.rpartition('/')[2]}: {text}") from None
        return payload.get("value")

    def close(self) -> None:
        """Stop ChromeDriver and whatever is left of its process group, and reap it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
            # the group's processes, orphaned, are reaped by init: wait a moment for that
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                os.killpg(self.proc.pid, 0)
                time.sleep(0.05)
        self._log.close()


class Browser:
    """Headless Chromium showing the folder ``root`` (served on 127.0.0.1); a context manager.

    ``fake_audio``: a WAV file the page's microphone plays (once), granted without a prompt.
    """

    def __init__(
        self, root: Path, fake_audio: Path | None = None, window: tuple[int, int] = (1280, 900)
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"cannot serve {self.root}: not a folder")
        if fake_audio is not None and not Path(fake_audio).is_file():
            raise UserError(f"fake audio file {fake_audio} does not exist")
        chromium, driver = find_tools()
        if not (chromium and driver):
            raise UserError(INSTALL_HINT)
        self._tmp = tempfile.TemporaryDirectory(prefix="lgrin-chromium-", ignore_cleanup_errors=True)
        self._server: _StaticServer | None = None
        self._driver: _Driver | None = None
        self._session: str | None = None
        self._lock = threading.Lock()
        self._script_timeout: float | None = None
        self.capabilities: dict = {}  # what the session reports (browserVersion, ...)
        try:
            self._server = _StaticServer(self.root)
            self._driver = _Driver(driver, Path(self._tmp.name) / "chromedriver.log")
            self._driver.wait_ready()
            self._start_session(chromium, fake_audio, window)
        except BaseException:
            self.close()
            raise

    def _start_session(self, chromium: str, fake_audio: Path | None, window: tuple[int, int]) -> None:
        profile = Path(self._tmp.name) / "profile"
        profile.mkdir()
        args = [*CHROMIUM_FLAGS, f"--window-size={window[0]},{window[1]}", f"--user-data-dir={profile}"]
        if fake_audio is not None:
            wav = Path(fake_audio).resolve()
            args += [*FAKE_AUDIO_FLAGS, f"--use-file-for-fake-audio-capture={wav}%noloop"]
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }
        value = self._driver.request("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, 90)
        self._session = value["sessionId"]
        self.capabilities = value.get("capabilities", {})

    @property
    def version(self) -> str:
        """The running browser as "Chromium <version>"."""
        return f"Chromium {self.capabilities.get('browserVersion', '?')}"

    @property
    def base_url(self) -> str:
        return self._server.base

    def url(self, rel: str = "") -> str:
        """The served address of ``rel`` (a path relative to ``root``)."""
        return self._server.base + rel.lstrip("/")

    def _call(self, method: str, path: str, body: dict | None = None, timeout_s: float = 60.0) -> Any:
        if self._session is None:
            raise RuntimeError("the browser is closed")
        return self._driver.request(method, f"/session/{self._session}{path}", body, timeout_s)

    def open(self, rel: str = "", timeout_s: float = 60.0) -> None:
        """Navigate to ``rel`` and wait until the document has loaded."""
        self._call("POST", "/url", {"url": self.url(rel)}, timeout_s)
        deadline = time.monotonic() + timeout_s
        while self._call("POST", "/execute/sync", {"script": "return document.readyState", "args": []}) != (
            "complete"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{rel or '/'} did not finish loading in {timeout_s:.0f} s")
            time.sleep(0.05)

    def open_blank(self) -> None:
        """Navigate to an empty page of the server's origin: scripts may then import from ``root``."""
        self.open(BLANK_PAGE)

    def run(self, body: str, *args: Any, timeout_s: float = 120) -> Any:
        """The awaited result of the JS function ``body`` called with ``args`` (JSON values).

        ``body`` is a function expression (``async (x, y) => ...``, ``async function (x) {...}``) or else
        the body of an async function whose arguments are the array ``args``. ``b64decode(text)`` ->
        Uint8Array and ``b64encode(typedArray)`` -> string are in scope. A thrown error (or a rejected
        promise) raises RuntimeError with its message and stack.
        """
        fn = body if _FUNCTION_TEXT.match(body) else f"async (...args) => {{\n{body}\n}}"
        script = _RUN_WRAPPER.replace("__FN__", fn)
        with self._lock:  # the script timeout and the script that runs under it, from one thread at a time
            if self._script_timeout != timeout_s:
                self._call("POST", "/timeouts", {"script": int(timeout_s * 1000)})
                self._script_timeout = timeout_s
            request = {"script": script, "args": list(args)}
            result = self._call("POST", "/execute/async", request, timeout_s + 30)
        if not result.get("ok"):
            raise RuntimeError(f"JavaScript error: {result.get('error')}")
        return result.get("value")

    def _element(self, css: str) -> str:
        """The WebDriver id of the first element ``css`` selects."""
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def click(self, css: str) -> None:
        """Click the element ``css`` selects: a real click, which counts as the gesture audio needs."""
        self._call("POST", f"/element/{self._element(css)}/click", {})

    def choose_file(self, css: str, path: Path) -> None:
        """Choose ``path`` in the file input ``css``, as the file dialog would (its change event fires)."""
        self._call("POST", f"/element/{self._element(css)}/value", {"text": str(Path(path).resolve())})

    def console_errors(self) -> list[str]:
        """The console's SEVERE entries (errors, uncaught exceptions, failed loads) since the last call."""
        entries = self._call("POST", "/se/log", {"type": "browser"})
        return [e.get("message", "") for e in entries or () if e.get("level") == "SEVERE"]

    def screenshot(self, path: Path) -> Path:
        """A PNG of the viewport, written atomically to ``path``."""
        write_bytes(path, base64.b64decode(self._call("GET", "/screenshot")))
        return Path(path)

    def close(self) -> None:
        """End the session, ChromeDriver (reaped) and the server; safe to call more than once."""
        if self._session is not None and self._driver is not None:
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                self._driver.request("DELETE", f"/session/{self._session}", timeout_s=15)
        self._session = None
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        if self._server is not None:
            self._server.close()
            self._server = None
        self._tmp.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
