"""Browser: a real headless Chromium showing a served folder, scripts run in it, its console, screenshots."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.web.browser import Browser, from_base64, to_base64

PAGE = "<!doctype html><html><head><title>t</title></head><body><p>clean</p></body></html>"
NOISY = '<!doctype html><html><body><script>console.error("noisy page: " + 6 * 7)</script></body></html>'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE)
    (root / "noisy.html").write_text(NOISY)
    (root / "m.js").write_text("export const answer = 41;\n")
    (root / "t.wasm").write_bytes(b"\0asm\1\0\0\0")  # the smallest valid module
    return root


@pytest.fixture(scope="module")
def browser(chromium: None, site: Path) -> Browser:
    with Browser(site) as b:
        yield b


def test_serves_and_runs(browser: Browser) -> None:
    browser.open("index.html")
    assert browser.run("async () => document.querySelector('p').textContent") == "clean"
    assert browser.run("async (a, b) => a + b", 40, 2) == 42
    assert browser.run("return args.length", 1, 2, 3) == 3
    assert browser.run("async () => (await import('/m.js')).answer + 1") == 42
    assert browser.run("async () => {}") is None
    assert browser.version.startswith("Chromium ") and browser.version[9:10].isdigit()


def test_blank_page(browser: Browser) -> None:
    browser.open_blank()
    assert browser.run("async () => location.origin + '/'") == browser.base_url
    assert browser.run("async () => (await import('/m.js')).answer") == 41
    assert browser.console_errors() == []


def test_fake_microphone(chromium: None, site: Path, tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype("<i2")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(tone.tobytes())
    with Browser(site, fake_audio=wav) as b:
        b.open("index.html")
        tracks = b.run(
            "async () => (await navigator.mediaDevices.getUserMedia({audio: true})).getAudioTracks()"
            ".map((t) => t.readyState)"
        )
        assert tracks == ["live"]


def test_mime_types(browser: Browser) -> None:
    browser.open("index.html")
    types = browser.run(
        "async (...names) => Promise.all(\n"
        "names.map(async (n) => (await fetch(n)).headers.get('content-type')))",
        "m.js",
        "t.wasm",
    )
    assert types == ["text/javascript", "application/wasm"]
    assert browser.run("async () => WebAssembly.validate(await (await fetch('t.wasm')).arrayBuffer())")


def test_arrays_cross_as_base64(browser: Browser) -> None:
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    doubled = browser.run(
        "async (s) => { const f = new Float32Array(b64decode(s).buffer);"
        " return b64encode(f.map((v) => 2 * v)); }",
        to_base64(x),
    )
    np.testing.assert_array_equal(from_base64(doubled), 2 * x)


def test_js_errors_raise(browser: Browser) -> None:
    with pytest.raises(RuntimeError, match="bad thing"):
        browser.run("async () => { throw new Error('bad thing'); }")
    with pytest.raises(RuntimeError, match="rejected"):
        browser.run("() => Promise.reject(new TypeError('rejected'))")
    with pytest.raises(RuntimeError, match="timeout"):
        browser.run("async () => new Promise(() => {})", timeout_s=0.5)
    assert browser.run("async () => 'still usable'") == "still usable"


def test_console_errors(browser: Browser) -> None:
    browser.open("index.html")
    browser.console_errors()  # whatever came before
    browser.open("index.html")
    assert browser.console_errors() == []
    browser.open("noisy.html")
    errors = browser.console_errors()
    assert len(errors) == 1 and "noisy page: 42" in errors[0]
    assert browser.console_errors() == []


def test_screenshot(browser: Browser, tmp_path: Path) -> None:
    browser.open("index.html")
    path = browser.screenshot(tmp_path / "shot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["shot.png"]  # nothing staged is left


def _running_in_group(pgid: int) -> list[int]:
    """Processes of process group ``pgid`` that are not zombies (exited, waiting for init to reap them)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # after the command's closing parenthesis: state, ppid, pgrp
            state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]
        except OSError:
            continue
        if int(pgrp) == pgid and state != "Z":
            found.append(int(stat.parent.name))
    return found


def test_close_reaps_chromedriver(chromium: None, site: Path) -> None:
    b = Browser(site)
    proc, url = b._driver.proc, b.url("index.html")
    b.open("index.html")
    b.close()
    assert proc.returncode is not None  # exited and waited for
    assert _running_in_group(proc.pid) == []  # nor is anything of its process group (Chromium)
    with pytest.raises(RuntimeError, match="closed"):
        b.run("async () => 1")
    b.close()  # a second close does nothing
    assert url.startswith("http://127.0.0.1:")


def test_bad_root(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        Browser(tmp_path / "missing")
    with pytest.raises(ValueError, match="does not exist"):
        Browser(tmp_path, fake_audio=tmp_path / "missing.wav")
