#!/usr/bin/env bash
# Builds the Debian packages into OUT: interview-kiosk (the app and CLI), interview-kiosk-sync (the
# agent), interview-cloud (cloud-bridge) with cargo-deb (Cargo.toml [package.metadata.deb]), and
# interview-kiosk-models (the verified models of models/manifest.toml, from MODELS) with dpkg-deb.
#
#   package.sh [--profile release|dev] [--deb-version V] [--out DIR] [--models DIR] [--only LIST]
#
# --only: some of "kiosk sync-agent cloud-bridge models" (default: all four).
# release (the default) builds optimised binaries first; dev packages the binaries `cargo build`
# already made (the install test uses them: a release build of the app takes half an hour here).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

profile=release out=target/debian models=var/models version="" only="kiosk sync-agent cloud-bridge models"
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) profile="$2"; shift 2 ;;
        --deb-version) version="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        *) echo "usage: $0 [--profile release|dev] [--deb-version V] [--out DIR] [--models DIR] [--only LIST]" >&2; exit 2 ;;
    esac
done

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# cargo-deb, built once from crates.io into a tools folder outside the checkout (about a minute).
cargo_deb_version=3.8.0
tools=/var/tmp/kiosk-tools
cargo_deb="$tools/bin/cargo-deb"
if ! "$cargo_deb" --version 2>/dev/null | grep -q " $cargo_deb_version\$"; then
    say "installing cargo-deb $cargo_deb_version into $tools"
    cargo install --quiet --locked --version "$cargo_deb_version" --root "$tools" cargo-deb
fi

command -v dpkg-deb >/dev/null || die "dpkg-deb not found (Debian package dpkg)"
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps not found (apt-get install dpkg-dev)"
[ -n "$version" ] || version="$(cargo metadata --no-deps --format-version 1 --locked |
    python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "kiosk"))')-1"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [ "$profile" = release ]; then
    say "building (release)"
    cargo build --release --locked $(for c in $only; do [ "$c" = models ] || echo "-p $c"; done)
fi

for crate in $only; do
    [ "$crate" != models ] || continue
    say "packaging $crate ($profile build, version $version)"
    # --fast: the binaries are most of it and xz -9 would take minutes for a few per cent.
    "$cargo_deb" --quiet -p "$crate" --profile "$profile" --no-build --fast \
        --deb-version "$version" -o "$out" >/dev/null
done

case " $only " in *" models "*) ;; *) ls -1 "$out"/*.deb; exit 0 ;; esac
say "packaging interview-kiosk-models from $models"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
python3 - "$root/models/manifest.toml" "$models" "$stage" <<'PY'
import hashlib, os, shutil, sys, tomllib
manifest, models, stage = sys.argv[1:]
with open(manifest, "rb") as f:
    entries = tomllib.load(f)["model"]
dest = os.path.join(stage, "usr/lib/interview-kiosk/models")
notes = []
for m in entries:
    src = os.path.join(models, m["file"])
    if not os.path.isfile(src):
        sys.exit(f"error: {src} is missing: run ./models/fetch.sh {models} first")
    h = hashlib.sha256()
    with open(src, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != m["sha256"]:
        sys.exit(f"error: {src} does not match models/manifest.toml (sha256 {h.hexdigest()}): run ./models/fetch.sh {models} again")
    target = os.path.join(dest, m["file"])
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(src, target)
    os.chmod(target, 0o644)
    source = ", ".join(f"{k}: {v}" for k, v in m.get("source", {}).items())
    notes.append(f"Files: usr/lib/interview-kiosk/models/{m['file']}\nName: {m['name']}\nLicense: {m['licence']}\nSource: {source}\nSha256: {m['sha256']}\n")
doc = os.path.join(stage, "usr/share/doc/interview-kiosk-models")
os.makedirs(doc)
with open(os.path.join(doc, "copyright"), "w") as f:
    f.write("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            "Comment: the models of models/manifest.toml, verified against its sha256 sums\n\n")
    f.write("\n".join(notes))
PY
mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: interview-kiosk-models
Version: $version
Architecture: $(dpkg --print-architecture)
Maintainer: Interview kiosk team <kiosk-team@example.com>
Section: misc
Priority: optional
Installed-Size: $(du -sk "$stage/usr" | cut -f1)
Description: Models of the interview kiosk (speech, voice activity, face presence)
 Whisper (ggml: tiny.en, tiny.en Q8_0, base), Silero VAD, the MTCNN face detector and the ONNX
 Runtime library that runs them, converted and checked against models/manifest.toml's sha256 sums
 so that store boxes need no Python or network to get them; kiosk check verifies them again.
CONTROL
# Model weights hardly compress: gzip -1 keeps the build quick.
dpkg-deb --root-owner-group -Zgzip -z1 --build "$stage" "$out/interview-kiosk-models_${version}_$(dpkg --print-architecture).deb" >/dev/null
ls -1 "$out"/*.deb
