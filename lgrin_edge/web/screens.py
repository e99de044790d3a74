"""``python -m lgrin_edge.web.screens --dist EXPORT_DIR --out DIR``: screenshots of the live page in use.

The page is used as a person uses it, in headless Chromium.

The export folder (manifest.json, samples.npz and the web bundle in ``web/``) is served on 127.0.0.1 and
the page opened; then "Check all samples" is clicked, a WAV (``--wav``, audio models) or a motion CSV
(``--csv``, motion models) is chosen through the page's file input, and after each step a PNG is written:
``web_<name>_facts.png``, ``web_<name>_samples.png``, ``web_<name>_<wav|csv>.png`` and, with ``--mic``, the
WAV played as the microphone by Chromium's fake capture device, ``web_<name>_mic.png`` (``--name``, default
the model's input kind). A step the page reports as an error (its one line) fails the command.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lgrin_edge.cli import Parser, UserError, run

PAGE = "web/"
WINDOW = (1280, 1500)  # tall enough to show the facts, the timeline and the first decisions at once


# -- the page as a person uses it (WebDriver element commands) -----------------------------------------


def page_error(browser: Any) -> str:
    """The page's one error line ("" when there is none)."""
    return browser.run("const e = document.getElementById('error'); return e.hidden ? '' : e.textContent;")


def wait_idle(browser: Any, timeout_s: float = 120.0, ignore_error: bool = False) -> None:
    """Until the input that was started has finished (its controls enabled again); RuntimeError with the
    page's error line if it reported one (unless ``ignore_error``)."""
    deadline = time.monotonic() + timeout_s
    script = "return 'busy' in document.body.dataset"
    while browser.run(script):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the page was still busy after {timeout_s:.0f} s")
        time.sleep(0.1)
    error = page_error(browser)
    if error and not ignore_error:
        raise RuntimeError(f"the page reported: {error}")


def open_page(browser: Any, rel: str = PAGE) -> dict:
    """Open the page and wait for its model; its ready value (build, kernels, input kind)."""
    browser.open(rel)
    return browser.run("return await window.lgrinPage.ready;")


# -- the command ---------------------------------------------------------------------------------------


def _target(out: Path, file: str, overwrite: bool) -> Path:
    path = out / file
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists; pass --overwrite to replace it, or choose another --out")
    return path


def shoot(dist: Path, out: Path, options: dict) -> list[Path]:
    """Every screenshot of one export folder into ``out`` (``options``: name, wav, csv, overwrite); the
    paths written."""
    from lgrin_edge.web.browser import Browser

    written: list[Path] = []
    with Browser(dist, window=WINDOW) as browser:
        kind = open_page(browser)["kind"]
        name, overwrite = options.get("name") or kind or "model", options.get("overwrite", False)
        signal = options.get("wav") if kind == "audio" else options.get("csv") if kind == "motion" else None
        steps = ["facts", "samples", *([signal.suffix[1:]] if signal else [])]
        paths = {step: _target(out, f"web_{name}_{step}.png", overwrite) for step in steps}
        written.append(browser.screenshot(paths["facts"]))
        browser.click("#check")
        wait_idle(browser)
        written.append(browser.screenshot(paths["samples"]))
        if signal is not None:
            browser.choose_file("#wav" if kind == "audio" else "#csv", signal)
            wait_idle(browser)
            written.append(browser.screenshot(paths[steps[-1]]))
        _no_console_errors(browser)
    if options.get("mic") and kind == "audio" and signal is not None:
        written.append(shoot_microphone(dist, signal, _target(out, f"web_{name}_mic.png", overwrite)))
    return written


def _no_console_errors(browser: Any) -> None:
    errors = browser.console_errors()
    if errors:
        raise RuntimeError(f"the page logged console errors: {errors[0]}")


def listen(browser: Any, seconds: float, timeout_s: float = 60.0) -> None:
    """Start the page's microphone, wait until it has heard ``seconds`` of audio, then Stop."""
    browser.click("#mic")
    deadline = time.monotonic() + seconds + timeout_s
    while browser.run("return window.lgrinPage.heardSeconds;") < seconds:
        error = page_error(browser)
        if error or time.monotonic() > deadline:
            raise RuntimeError(f"the microphone did not hear {seconds:.1f} s: {error or 'timed out'}")
        time.sleep(0.2)
    browser.click("#stop")
    wait_idle(browser)


def shoot_microphone(dist: Path, wav: Path, path: Path) -> Path:
    """The page after listening to ``wav`` played as the microphone by Chromium (and 1 s more)."""
    import wave

    from lgrin_edge.web.browser import Browser

    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
    with Browser(dist, fake_audio=wav, window=WINDOW) as browser:
        open_page(browser)
        listen(browser, seconds + 1.0)
        browser.screenshot(path)
        _no_console_errors(browser)
    return path


def _check(args: Any) -> None:
    from lgrin_edge.web.browser import chromium_status

    web = args.dist / "web"
    for need in (web / "index.html", web / "model_int8.lgrn", args.dist / "manifest.json"):
        if not need.is_file():
            raise UserError(
                f"{args.dist} is not a web export folder: {need.relative_to(args.dist)} is missing"
            )
    for given, suffix in ((args.wav, ".wav"), (args.csv, ".csv")):
        if given is not None and (given.suffix.lower() != suffix or not given.is_file()):
            raise UserError(f"{given}: not a {suffix} file")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"{args.out} exists and is not a folder")
    ok, reason = chromium_status()
    if not ok:
        raise UserError(reason)


def _parser() -> Parser:
    ap = Parser(
        prog="python -m lgrin_edge.web.screens", description=__doc__.splitlines()[0].split(": ", 1)[1]
    )
    ap.add_argument(
        "--dist", type=Path, required=True, metavar="EXPORT_DIR", help="an export folder with web/"
    )
    ap.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the PNGs are written")
    ap.add_argument("--wav", type=Path, metavar="FILE", help="a WAV streamed by an audio model")
    ap.add_argument("--csv", type=Path, metavar="FILE", help="a motion CSV streamed by a motion model")
    ap.add_argument("--mic", action="store_true", help="also play --wav as the microphone (audio models)")
    ap.add_argument("--name", metavar="NAME", help="the PNGs' name part (default: the model's input kind)")
    ap.add_argument("--overwrite", action="store_true", help="replace PNGs of these names already in DIR")
    return ap


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _check(args)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.mic and args.wav is None:
        raise UserError("--mic plays the --wav file as the microphone: give --wav too")
    options = {
        "name": args.name,
        "wav": args.wav,
        "csv": args.csv,
        "mic": args.mic,
        "overwrite": args.overwrite,
    }
    for path in shoot(args.dist, args.out, options):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
