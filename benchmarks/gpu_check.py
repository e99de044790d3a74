"""The GPU check: train on CUDA (fp32 and bf16 autocast) against CPU on the same seeds, training
throughput at the paper's configurations, PyTorch inference latency at batch 1 and 64, and an export of
the CUDA-trained checkpoint; one JSON and one markdown report.

    bash benchmarks/gpu_check.sh                  # on a machine with a CUDA device (about 6 minutes)
    python benchmarks/gpu_check.py --device cpu --quick --out /tmp/gpu-dry-run   # the CPU dry run

Works with whatever torch the machine has (2.4 or newer); TensorRT is used by the export only if
installed (otherwise the export says it skipped the engine). Nothing here claims a figure it did not
measure: every number in the report comes from this run.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lgrin_edge.atomic import write_bytes, write_json  # noqa: E402
from lgrin_edge.measure.macs import lgrin_macs  # noqa: E402
from lgrin_edge.models import create_model, maxpool  # noqa: E402
from lgrin_edge.params import CONFIGS  # noqa: E402

BATCH = 32


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def train_runs(out: Path, device: str, seeds: list[int], quick: bool) -> list[dict]:
    """L-GrIN and the baselines on JapaneseVowels: the device (fp32, and bf16 for L-GrIN) beside CPU."""
    from lgrin_edge.train import main as train

    runs = []
    plan = [("lgrin", 2 if quick else 150, ("none", "bf16"))]
    plan += [(m, 2 if quick else 40, ("none",)) for m in ("blstm", "senet", "gcn")]
    for model, epochs, autocasts in plan:
        for seed in seeds:
            # CPU fp32 as the reference, then the device (the same run once in a CPU dry run)
            for where, autocast in dict.fromkeys([("cpu", "none"), *((device, a) for a in autocasts)]):
                name = f"{model}-s{seed}-{where}-{autocast}"
                run = out / "runs" / name
                args = ["--dataset", "japanesevowels", "--model", model, "--epochs", str(epochs)]
                args += ["--seed", str(seed), "--device", where, "--autocast", autocast, "--out", str(run)]
                args += ["--overwrite"]
                start = time.time()
                code = train(args)
                metrics = json.loads((run / "metrics.json").read_text()) if code == 0 else {}
                runs.append(
                    {
                        "model": model,
                        "seed": seed,
                        "device": where,
                        "autocast": autocast,
                        "epochs": epochs,
                        "exit": code,
                        "accuracy": metrics.get("accuracy"),
                        "seconds": round(time.time() - start, 1),
                        "run": str(run),
                    }
                )
                print(f"  {name}: accuracy {metrics.get('accuracy')}, {runs[-1]['seconds']} s", flush=True)
    return runs


def throughput(device: str, quick: bool) -> list[dict]:
    """Graphs/s of one optimisation step at the paper's configurations (fp32 and bf16 autocast)."""
    rows = []
    for label, m, p, c, _ in CONFIGS:
        if label.startswith("RAVDESS"):
            continue
        for autocast in ("none", "bf16"):
            torch.manual_seed(0)
            model = create_model("lgrin", num_nodes=m, in_features=p, num_classes=c).to(device)
            opt = torch.optim.Adam(model.parameters(), lr=0.01)
            x, y = torch.randn(BATCH, m, p, device=device), torch.randint(0, c, (BATCH,), device=device)
            ctx = (
                torch.autocast(device_type=device, dtype=torch.bfloat16)
                if autocast == "bf16"
                else nullcontext()
            )

            def step(model=model, opt=opt, x=x, y=y, ctx=ctx) -> None:
                opt.zero_grad(set_to_none=True)
                with ctx:
                    logits = model(x).float()
                (torch.nn.functional.cross_entropy(logits, y) + model.regularization()).backward()
                opt.step()

            steps = 2 if quick else 30
            for _ in range(2 if quick else 5):
                step()
            sync(device)
            start = time.perf_counter()
            for _ in range(steps):
                step()
            sync(device)
            dt = (time.perf_counter() - start) / steps
            macs = lgrin_macs({"num_nodes": m, "in_features": p, "num_classes": c})
            rows.append(
                {"config": label, "autocast": autocast, "graphs_per_s": BATCH / dt, "forward_macs": macs}
            )
            print(f"  {label} {autocast}: {BATCH / dt:,.0f} graphs/s", flush=True)
    return rows


def latency(run: Path, device: str, quick: bool) -> list[dict]:
    """PyTorch inference latency of the trained L-GrIN at batch 1 and 64 (fp32, bf16 autocast)."""
    from lgrin_edge.checkpoint import load_checkpoint

    model, _ = load_checkpoint(run, device=device)
    with np.load(run / "eval.npz", allow_pickle=False) as f:
        x_all = torch.as_tensor(f["x"], device=device)
    rows = []
    for batch in (1, 64):
        x = x_all[:batch]
        for autocast in ("none", "bf16"):
            ctx = (
                torch.autocast(device_type=device, dtype=torch.bfloat16)
                if autocast == "bf16"
                else nullcontext()
            )
            with torch.no_grad(), ctx:
                for _ in range(3 if quick else 20):
                    model(x)
                sync(device)
                n = 3 if quick else 200
                start = time.perf_counter()
                for _ in range(n):
                    model(x)
                sync(device)
            ms = (time.perf_counter() - start) / n * 1e3
            rows.append({"batch": batch, "autocast": autocast, "ms": ms})
            print(f"  batch {batch} {autocast}: {ms:.3f} ms", flush=True)
    return rows


def export(run: Path, out: Path, quick: bool) -> dict:
    from lgrin_edge.export.__main__ import main as export_main

    targets = ["onnx", "c"] if quick else ["all"]
    code = export_main(["--checkpoint", str(run), "--target", *targets, "--out", str(out)])
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").is_file() else {}
    return {
        "exit": code,
        "artifacts": [
            {k: a.get(k) for k in ("target", "precision", "verified", "top1_agreement")}
            for a in manifest.get("artifacts", []) + manifest.get("failed", [])
        ],
        "skipped": manifest.get("skipped", []),
    }


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"# GPU check ({env['device_name']}, torch {env['torch']})",
        "",
        f"Started {env['started']}; {report['seconds']:.0f} s; 1-hop max pool: {env['maxpool_cpu']} on CPU, "
        "torch on CUDA.",
        "",
        "## Training on JapaneseVowels: accuracy by device (same seeds)",
        "",
        "| model | seed | device | autocast | epochs | accuracy | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["training"]:
        acc = f"{r['accuracy']:.4f}" if r["accuracy"] is not None else f"exit {r['exit']}"
        cells = (r["model"], r["seed"], r["device"], r["autocast"], r["epochs"], acc, r["seconds"])
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "## Training throughput (batch 32, one optimisation step)", ""]
    lines += ["| configuration | autocast | graphs/s |", "|---|---|---|"]
    lines += [f"| {r['config']} | {r['autocast']} | {r['graphs_per_s']:,.0f} |" for r in report["throughput"]]
    lines += ["", "## PyTorch inference latency (L-GrIN trained on the device)", ""]
    lines += ["| batch | autocast | ms |", "|---|---|---|"]
    lines += [f"| {r['batch']} | {r['autocast']} | {r['ms']:.3f} |" for r in report["latency"]]
    lines += ["", "## Export of the device-trained checkpoint", ""]
    lines += [
        f"- {a['target']}/{a['precision']}: verified {a['verified']}, agreement {a['top1_agreement']}"
        for a in report["export"]["artifacts"]
    ]
    lines += [
        f"- skipped {s['target']}/{s.get('artifact', s['precision'])}: {s['reason']}"
        for s in report["export"]["skipped"]
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu"), help="report folder")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--quick", action="store_true", help="2 epochs, few timing steps: checks the script runs")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA device here (use --device cpu --quick for a dry run)", file=sys.stderr)
        return 2
    started = time.time()
    env = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device_name": torch.cuda.get_device_name(0)
        if args.device == "cuda"
        else platform.processor() or "CPU",
        "maxpool_cpu": maxpool.backend(),
    }
    print("[1/4] training on CPU and on the device", flush=True)
    runs = train_runs(args.out, args.device, args.seeds, args.quick)
    print("[2/4] training throughput", flush=True)
    rows = throughput(args.device, args.quick)
    device_run = next(
        (
            Path(r["run"])
            for r in runs
            if r["model"] == "lgrin" and r["device"] == args.device and r["exit"] == 0
        ),
        None,
    )
    print("[3/4] inference latency", flush=True)
    lat = latency(device_run, args.device, args.quick) if device_run else []
    print("[4/4] export of the device-trained checkpoint", flush=True)
    exported = (
        export(device_run, args.out / "dist", args.quick) if device_run else {"artifacts": [], "skipped": []}
    )
    report = {
        "environment": env,
        "training": runs,
        "throughput": rows,
        "latency": lat,
        "export": exported,
        "seconds": time.time() - started,
    }
    write_json(args.out / "gpu_check.json", report)
    write_bytes(args.out / "gpu_check.md", markdown(report).encode())
    print(f"report: {args.out / 'gpu_check.md'}")
    failed = [r for r in runs if r["exit"] != 0]
    return 1 if failed or not device_run else 0


if __name__ == "__main__":
    sys.exit(main())
