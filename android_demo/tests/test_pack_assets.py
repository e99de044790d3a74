"""Tests of pack_assets.py on fabricated export folders.

Run: python -m unittest discover -s android_demo/tests
"""

import contextlib
import io
import json
import shutil
import struct
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import make_fake_dist  # noqa: E402
import pack_assets  # noqa: E402


def decode_samples(blob: bytes):
    """An independent reader of samples.bin, to check what pack_assets writes."""
    assert blob[:8] == pack_assets.MAGIC
    flags, n, m, p, c = struct.unpack_from("<5I", blob, 8)
    pos, classes = 28, []
    for _ in range(c):
        (length,) = struct.unpack_from("<H", blob, pos)
        classes.append(blob[pos + 2 : pos + 2 + length].decode("utf-8"))
        pos += 2 + length
    xs, ys, refs = [], [], []
    for _ in range(n):
        ys.append(struct.unpack_from("<i", blob, pos)[0])
        xs.append(np.frombuffer(blob, "<f4", m * p, pos + 4).reshape(m, p))
        pos += 4 + 4 * m * p
        if flags & 1:
            refs.append(np.frombuffer(blob, "<f4", c, pos))
            pos += 4 * c
    assert pos == len(blob), "trailing bytes"
    return np.array(xs), np.array(ys), classes, np.array(refs) if refs else None


class PackAssetsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.dist = make_fake_dist.make(self.tmp / "dist", n=6, m=5, p=3, c=4)
        self.out = self.tmp / "assets" / "lgrin"

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_cli(self, *extra):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = pack_assets.main(["--dist", str(self.dist), "--out", str(self.out), *extra])
        return rc, err.getvalue()

    def manifest(self):
        return json.loads((self.dist / "manifest.json").read_text())

    def test_packs_models_and_samples_exactly(self):
        rc, err = self.run_cli()
        self.assertEqual(rc, 0, err)
        for name in ("model_int8.tflite", "model_int8.lgrn"):
            self.assertEqual((self.out / name).read_bytes(), (self.dist / name).read_bytes())
        props = dict(
            line.split("=", 1)
            for line in (self.out / "demo.properties").read_text().splitlines()
            if not line.startswith("#")
        )
        self.assertEqual(props["c.file"], "model_int8.lgrn")
        self.assertEqual(props["num_samples"], "6")
        self.assertEqual(props["c.sha256"], self.manifest()["artifacts"][1]["sha256"])
        x, y, classes, ref = decode_samples((self.out / "samples.bin").read_bytes())
        with np.load(self.dist / "samples.npz") as npz:
            np.testing.assert_array_equal(x, npz["x"])
            np.testing.assert_array_equal(y, npz["y"])
            np.testing.assert_array_equal(ref, npz["logits_c"])
            self.assertEqual(classes, list(npz["classes"]))

    def test_limit_and_stale_files_removed(self):
        rc, err = self.run_cli()
        self.assertEqual(rc, 0, err)
        (self.out / "old_model.tflite").write_bytes(b"stale")  # left by an earlier pack
        rc, err = self.run_cli("--limit", "2")
        self.assertEqual(rc, 0, err)
        self.assertFalse((self.out / "old_model.tflite").exists())
        self.assertEqual(len(decode_samples((self.out / "samples.bin").read_bytes())[1]), 2)

    def test_foreign_or_overlapping_out_is_refused_and_kept(self):
        self.out.mkdir(parents=True)
        (self.out / "notes.txt").write_text("mine")
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("did not write", err)
        self.assertEqual((self.out / "notes.txt").read_text(), "mine")
        before = sorted(p.name for p in self.dist.iterdir())
        for out in (self.dist, self.dist / "assets", self.dist.parent):
            with contextlib.redirect_stderr(io.StringIO()) as err:
                rc = pack_assets.main(["--dist", str(self.dist), "--out", str(out)])
            self.assertEqual(rc, 1)
            self.assertIn("overlaps the export folder", err.getvalue())
        self.assertEqual(sorted(p.name for p in self.dist.iterdir()), before)

    def test_missing_manifest(self):
        (self.dist / "manifest.json").unlink()
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("manifest.json is missing", err)
        self.assertFalse(self.out.exists())

    def test_sha256_mismatch(self):
        path = self.dist / "model_int8.lgrn"
        data = bytearray(path.read_bytes())
        data[10] ^= 0xFF
        path.write_bytes(bytes(data))
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("sha256 mismatch", err)
        self.assertFalse(self.out.exists(), "nothing may be written after a failed check")

    def test_missing_model_file(self):
        (self.dist / "model_int8.tflite").unlink()
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("file is missing", err)

    def test_missing_samples(self):
        (self.dist / "samples.npz").unlink()
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("samples.npz is missing", err)

    def test_skipped_target_required_or_optional(self):
        m = self.manifest()
        m["artifacts"] = [a for a in m["artifacts"] if a["target"] != "tflite"]
        m["skipped"] = [{"target": "tflite", "precision": "int8", "reason": "litert-torch not installed"}]
        (self.dist / "manifest.json").write_text(json.dumps(m))
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("litert-torch not installed", err)
        rc, err = self.run_cli("--require", "c")
        self.assertEqual(rc, 0, err)
        self.assertIn("disables LiteRT", err)
        self.assertNotIn("tflite.file", (self.out / "demo.properties").read_text())

    def test_unverified_artifact_rejected(self):
        m = self.manifest()
        m["artifacts"][1]["verified"] = False
        (self.dist / "manifest.json").write_text(json.dumps(m))
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("could not verify", err)

    def test_shape_mismatch(self):
        m = self.manifest()
        m["model"]["num_nodes"] = 7
        (self.dist / "manifest.json").write_text(json.dumps(m))
        rc, err = self.run_cli()
        self.assertEqual(rc, 1)
        self.assertIn("x has shape", err)


if __name__ == "__main__":
    unittest.main()
