#!/usr/bin/env python3
"""ASR benchmark: the kiosk's whisper-rs against faster-whisper on the same Whisper tiny.en weights,
the same clips and the same thread count, in one run: espeak-ng speech of about 3, 8 and 20 s, and
answers with thinking pauses (sentences joined by 1.5–2.5 s of silence, about 10, 20 and 30 s
long) that a live end-pointer would have cut at the first pause. Prints time, word error rate and
words heard per clip, and the speed ratio: without a prompt, and with the factory-worker role's
English prompt as the app passes it (to both). Not a test.

    asr_bench.py KIOSK_BINARY MODELS_DIR CT2_MODEL_DIR [--threads 2] [--runs 5]

faster-whisper comes from PyPI into a bench-only venv (provisioning/dev.sh bench sets it up).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import tomllib
import time
import wave
from pathlib import Path

import numpy as np

CLIPS = {
    "3 s": "Yes, two shifts are no problem.",
    "8 s": "I want a stable job close to my home. I worked for two years on a production line, "
           "packing boxes and checking quality.",
    "20 s": "I would like to work here because the company has a good reputation and the job is close "
            "to my home. Before this I worked for three years in an electronics factory, first on the "
            "assembly line and later in quality inspection. I am used to night shifts and I always "
            "follow the safety rules.",
}
# Answers with pauses: (name, sentences, pauses between them in seconds).
PAUSED = [
    ("10 s paused", ["I want a stable job close to home.", "I have worked in a shop before.",
                     "Evenings suit me best."], [2.0, 1.5]),
    ("20 s paused", ["I would like to work here because the company has a good name.",
                     "Before this I worked for three years in a warehouse, packing orders.",
                     "I can start next week and I can work on weekends.",
                     "I am friendly with customers."], [1.7, 2.4, 1.5]),
    ("30 s paused", ["I want this job because it is close to my home and the pay is fair.",
                     "For two years I worked on an assembly line, checking parts for quality.",
                     "Then I moved to a warehouse where I drove a forklift and counted stock.",
                     "I am careful, I follow the safety rules, and I am happy to do night shifts.",
                     "I also helped to train new workers."],
     [1.5, 2.5, 2.0, 1.8]),
]
ROOT = Path(__file__).resolve().parents[2]


def words(s):
    return re.sub(r"[^a-z0-9' ]", " ", s.lower()).replace("'", "").split()


def distance(r, h):
    """Levenshtein distance between two sequences (words, or characters for Chinese)."""
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)]


def wer(ref, hyp):
    r, h = words(ref), words(hyp)
    return distance(r, h) / max(1, len(r))


def speak(tmp, stem, text, pad=(0.3, 0.3)):
    raw, wav = tmp / f"{stem}.raw.wav", tmp / f"{stem}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    # -D: no dither (it is random), so every run hears the same samples.
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav), "pad", str(pad[0]), str(pad[1])],
                   check=True)
    raw.unlink()
    return wav


def seconds_of(wav):
    with wave.open(str(wav)) as w:
        return w.getnframes() / w.getframerate()


def make_clips(tmp):
    out = {}
    for name, text in CLIPS.items():
        wav = speak(tmp, name[:-2], text)
        out[name] = (wav, text, seconds_of(wav))
    for name, sentences, pauses in PAUSED:
        stem = name.replace(" ", "-")
        parts = [str(speak(tmp, f"{stem}-{i}", s, (0.3 if i == 0 else 0, 0))) for i, s in enumerate(sentences)]
        args = []
        for i, part in enumerate(parts):
            args.append(part)
            if i < len(pauses):
                gap = tmp / f"{stem}-gap{i}.wav"
                subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0", str(pauses[i])],
                               check=True)
                args.append(str(gap))
        wav = tmp / f"{stem}.wav"
        subprocess.run(["sox", *args, str(wav), "pad", "0", "0.3"], check=True)
        out[name] = (wav, " ".join(sentences), seconds_of(wav))
    return out


def station(tmp, models_dir, threads, trim, model="whisper-tiny.en", split=True):
    text = (ROOT / "provisioning/examples/station.toml").read_text()
    text = text.replace('"../../var/data"', f'"{tmp}/data"').replace('"../../var/models"', f'"{Path(models_dir).resolve()}"')
    text = text.replace('roles_dir = "roles"', f'roles_dir = "{ROOT}/provisioning/examples/roles"')
    text = re.sub(r"trim_audio_ctx_en = \w+", f"trim_audio_ctx_en = {'true' if trim else 'false'}", text)
    text = re.sub(r"threads = \d+", f"threads = {threads}", text)
    text = re.sub(r"split_long_answers = \w+", f"split_long_answers = {'true' if split else 'false'}", text)
    text = re.sub(r'model_en = "[^"]+"', f'model_en = "{model}"', text)
    path = tmp / f"station-{model}-{'trim' if trim else 'full'}-{'split' if split else 'whole'}.toml"
    path.write_text(text)
    return path


# The app passes the role's `asr_prompt` to Whisper: the factory worker's, in English.
ROLE_PROMPT = tomllib.loads((ROOT / "provisioning/examples/roles/factory-worker.toml").read_text())["asr_prompt"]["en"]

KERNELS = re.compile(r"whisper CPU kernels kernels=(.*)")


def ours(kiosk, st, clips, runs, prompt=""):
    files = [str(c[0]) for c in clips.values() for _ in range(runs + 1)]
    done = subprocess.run([kiosk, "transcribe", "--station", str(st), "--locale", "en", "--json",
                           "--prompt", prompt, *files],
                          check=True, capture_output=True, text=True,
                          env={**os.environ, "RUST_LOG": "kiosk_perception::asr=info", "NO_COLOR": "1"})
    kernels = KERNELS.search(done.stderr)
    if kernels and not ours.kernels:
        ours.kernels = kernels.group(1).strip()
        print(f"whisper-rs CPU kernels: {ours.kernels}", file=sys.stderr)
    rows = json.loads(done.stdout)
    res = {}
    for k, name in enumerate(clips):
        mine = rows[k * (runs + 1):(k + 1) * (runs + 1)][1:]  # first run of each clip is a warm-up
        res[name] = (statistics.median(r["asr_ms"] for r in mine), mine[-1]["transcript"])
    return res


ours.kernels = None


def faster(model_dir, clips, runs, threads, compute_type, vad=False, prompt=None):
    from faster_whisper import WhisperModel
    model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1)
    res = {}
    for name, (wav, _, _) in clips.items():
        with wave.open(str(wav)) as w:
            audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
        times, text = [], ""
        for i in range(runs + 1):
            t = time.perf_counter()
            segments, _ = model.transcribe(audio, language="en", beam_size=1, vad_filter=vad,
                                           condition_on_previous_text=False, initial_prompt=prompt)
            text = " ".join(s.text.strip() for s in segments)
            if i:
                times.append((time.perf_counter() - t) * 1000)
        res[name] = (statistics.median(times), text)
    return res


def cpu_times():
    """(total, steal) clock ticks from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:9]]
        return sum(ticks), ticks[7]
    except (OSError, ValueError, IndexError):
        return None


def summary(title, clips, systems, ours_key, fws, show):
    """Speed against faster-whisper's fastest setting, accuracy against its most accurate one
    (they differ): the target is ≥ 2× faster and WER within 1 point, on every clip."""
    print(f"\nOurs beside faster-whisper, {title}:")
    print("| clip | ours (Q8_0, trimmed: the station default) | faster-whisper fastest | ratio (faster-whisper ÷ ours) "
          "| WER ours | faster-whisper's lowest WER | target (≥ 2×, WER ≤ theirs + 1 pt) | words ours / theirs / said |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for name, (_, ref, secs) in clips.items():
        ours_ms, ours_text = systems[ours_key][name]
        fast = min(fws, key=lambda k: systems[k][name][0])
        acc = min(fws, key=lambda k: (wer(ref, systems[k][name][1]), systems[k][name][0]))
        fw_ms, fw_wer, fw_text = systems[fast][name][0], wer(ref, systems[acc][name][1]), systems[acc][name][1]
        ratio, our_wer = fw_ms / ours_ms, wer(ref, ours_text)
        met = "met" if ratio >= 2 and our_wer <= fw_wer + 0.01 else "NOT met"
        print(f"| {name} | {ours_ms:.0f} ms | {fw_ms:.0f} ms ({fast.removeprefix('faster-whisper ')}) | {ratio:.2f}× | "
              f"{our_wer:.1%} | {fw_wer:.1%} ({acc.removeprefix('faster-whisper ')}) | {met} | "
              f"{len(words(ours_text))} / {len(words(fw_text))} / {len(words(ref))} |")
        if show:
            print(f"  said:           {ref}\n  ours:           {ours_text}\n  faster-whisper: {fw_text}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kiosk")
    ap.add_argument("models_dir")
    ap.add_argument("ct2_model_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--show", action="store_true", help="print each clip's transcripts (ours and the best faster-whisper's)")
    a = ap.parse_args()
    cpu_start = cpu_times()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        clips = make_clips(tmp)
        print(f"clips: {', '.join(f'{n} ({c[2]:.1f} s)' for n, c in clips.items())}; {a.threads} threads; median of {a.runs} warm runs", file=sys.stderr)
        q8 = "whisper-tiny.en-q8_0"
        systems = {
            "whisper-rs Q8_0, audio window trimmed": ours(a.kiosk, station(tmp, a.models_dir, a.threads, True, q8), clips, a.runs),
            "whisper-rs Q8_0, trimmed, long answers not split": ours(a.kiosk, station(tmp, a.models_dir, a.threads, True, q8, False), clips, a.runs),
            "whisper-rs f16, audio window trimmed": ours(a.kiosk, station(tmp, a.models_dir, a.threads, True), clips, a.runs),
            "whisper-rs f16, full 30 s window": ours(a.kiosk, station(tmp, a.models_dir, a.threads, False), clips, a.runs),
            "whisper-rs Q8_0, trimmed, role prompt": ours(a.kiosk, station(tmp, a.models_dir, a.threads, True, q8), clips, a.runs, ROLE_PROMPT),
        }
        for ct in ("float32", "int8"):
            systems[f"faster-whisper {ct}"] = faster(a.ct2_model_dir, clips, a.runs, a.threads, ct)
        # Its own Silero VAD filter drops the pauses before decoding, as ours does.
        systems["faster-whisper int8 vad_filter"] = faster(a.ct2_model_dir, clips, a.runs, a.threads, "int8", True)
        for ct in ("float32", "int8"):
            systems[f"faster-whisper {ct}, role prompt"] = faster(a.ct2_model_dir, clips, a.runs, a.threads, ct,
                                                                  prompt=ROLE_PROMPT)
    print(f"ASR benchmark — Whisper tiny.en, {a.threads} threads, greedy, median of {a.runs} warm runs; "
          f"whisper-rs CPU kernels: {ours.kernels or 'unknown'}")
    print("| clip | system | time, ms | WER | words heard / said |")
    print("|---|---|---:|---:|---:|")
    for name, (_, ref, secs) in clips.items():
        for sys_name, res in systems.items():
            ms, text = res[name]
            print(f"| {name} ({secs:.1f} s) | {sys_name} | {ms:.0f} | {wer(ref, text):.1%} | "
                  f"{len(words(text))} / {len(words(ref))} |")
    summary("without a prompt (as `kiosk transcribe` runs English)", clips, systems,
            "whisper-rs Q8_0, audio window trimmed", [k for k in systems if k.startswith("faster") and "prompt" not in k], a.show)
    summary(f"with the factory-worker role's prompt, as the app runs ({ROLE_PROMPT!r})", clips, systems,
            "whisper-rs Q8_0, trimmed, role prompt", [k for k in systems if k.startswith("faster") and "prompt" in k], a.show)
    cpu_end = cpu_times()
    if cpu_start and cpu_end and cpu_end[0] > cpu_start[0]:
        steal = (cpu_end[1] - cpu_start[1]) / (cpu_end[0] - cpu_start[0])
        print(f"CPU time taken by the hypervisor during the run (steal): {steal:.0%}")


if __name__ == "__main__":
    main()
