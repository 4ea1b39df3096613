#!/usr/bin/env python3
"""Chinese recognition benchmark: character error rate (CER) of the kiosk's Whisper base on a
Chinese set made as hard as espeak-ng allows — two voices (Chinese characters and tone-numbered
pinyin), several speeds and pitches, room noise mixed in at 10–20 dB SNR, answers with thinking
pauses and colloquial phrasing from the lexicon — and on a second, clean set (single answers in
four voices, padded as the tests pad them), once per recognition lever, in one run:
the prompt (none, general, the role's), temperature fallback, beam size, suppressing non-speech
tokens, trimming the audio window and flash attention; with each lever's peak memory. Not a
test.

    zh_bench.py KIOSK_BINARY MODELS_DIR

Needs numpy (the bench venv of provisioning/dev.sh bench has it). CER is counted on normalised
text: simplified characters, no punctuation or spaces.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
import wave
from pathlib import Path

import numpy as np

from asr_bench import distance  # the same edit distance as the English bench

ROOT = Path(__file__).resolve().parents[2]

# (characters, tone-numbered pinyin): answers to the factory-worker questions, in the words
# candidates use (the lexicon's colloquial yes / no / hedge).
SET = [
    ("我想找一个稳定的工作，离家近。", "wo3 xiang3 zhao3 yi2 ge4 wen3 ding4 de5 gong1 zuo4, li2 jia1 jin4."),
    ("可以，两班倒没问题。", "ke3 yi3, liang3 ban1 dao3 mei2 you3 wen4 ti2."),
    ("夜班我上不了，白班可以。", "ye4 ban1 wo3 shang4 bu4 liao3, bai2 ban1 ke3 yi3."),
    ("我在工厂流水线做过两年。", "wo3 zai4 gong1 chang3 liu2 shui3 xian4 zuo4 guo4 liang3 nian2."),
    ("工资待遇好一点，我想学点技术。", "gong1 zi1 dai4 yu4 hao3 yi4 dian3, wo3 xiang3 xue2 dian3 ji4 shu4."),
    ("看情况吧，不一定。", "kan4 qing2 kuang4 ba5, bu4 yi2 ding4."),
    ("我以前在超市当过收银员。", "wo3 yi3 qian2 zai4 chao1 shi4 dang1 guo4 shou1 yin2 yuan2."),
    ("没关系，周末也能上班。", "mei2 guan1 xi5, zhou1 mo4 ye3 neng2 shang4 ban1."),
]
# (espeak voice, text field: 0 characters / 1 pinyin, speed, pitch, noise SNR dB or None)
VOICES = [
    ("cmn", 0, 150, 50, None),
    ("cmn-latn-pinyin", 1, 150, 50, None),
    ("cmn+f3", 0, 175, 70, 20),
    ("cmn-latn-pinyin+m3", 1, 130, 35, 15),
    ("cmn+f2", 0, 160, 60, 10),
]


def norm(s):
    return re.sub(r"[\W_]+", "", s).lower()


def cer(ref, hyp):
    r, h = norm(ref), norm(hyp)
    return distance(r, h) / max(1, len(r))


def read(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0


def write(path, x):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes())


def speak(tmp, stem, voice, text, speed, pitch):
    raw = tmp / f"{stem}.raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text], check=True)
    wav = tmp / f"{stem}.16k.wav"
    # -D: no dither, so the set is the same on every run (dither is random, and base's output on
    # this set swings by tens of CER points with it).
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    return read(wav)


def room_noise(n, rng):
    """Brown-ish noise with a hum: a shop's ventilation and fridges."""
    white = rng.standard_normal(n).astype(np.float32)
    brown = np.cumsum(white)
    brown -= np.convolve(brown, np.ones(1600) / 1600, mode="same")
    t = np.arange(n) / 16000
    return brown / (np.abs(brown).max() + 1e-9) + 0.3 * np.sin(2 * np.pi * 50 * t)


def make_set(tmp):
    rng = np.random.default_rng(7)
    clips = []
    for vi, (voice, field, speed, pitch, snr) in enumerate(VOICES):
        for si, pair in enumerate(SET):
            speech = speak(tmp, f"v{vi}s{si}", voice, pair[field], speed, pitch)
            refs = [pair[0]]
            # Every other answer goes on after a thinking pause of 2 s.
            if si % 2 == 1:
                nxt = SET[(si + 1) % len(SET)]
                more = speak(tmp, f"v{vi}s{si}b", voice, nxt[field], speed, pitch)
                speech = np.concatenate([speech, np.zeros(32000, np.float32), more])
                refs.append(nxt[0])
            audio = np.concatenate([np.zeros(4800, np.float32), speech, np.zeros(8000, np.float32)])
            if snr is not None:
                noise = room_noise(len(audio), rng)
                p_speech = np.mean(speech ** 2)
                noise *= np.sqrt(p_speech / (np.mean(noise ** 2) * 10 ** (snr / 10)))
                audio = audio + noise
            path = tmp / f"v{vi}s{si}.wav"
            write(path, audio)
            clips.append((path, "".join(refs), voice, snr))
    return clips


# The second, clean set: each sentence alone, no noise, padded as the tests pad (0.6 s before,
# 1.6 s after), in four voices. The hard set ranks levers that differ by 10–20 points
# differently from this one; a lever is better only if it is better on both.
CLEAN_VOICES = [
    ("cmn-latn-pinyin", 1, 150),
    ("cmn-latn-pinyin", 1, 130),
    ("cmn", 0, 150),
    ("cmn-latn-pinyin+f3", 1, 160),
]


def make_clean_set(tmp):
    clips = []
    for vi, (voice, field, speed) in enumerate(CLEAN_VOICES):
        for si, pair in enumerate(SET):
            speech = speak(tmp, f"c{vi}s{si}", voice, pair[field], speed, 50)
            audio = np.concatenate([np.zeros(9600, np.float32), speech, np.zeros(25600, np.float32)])
            path = tmp / f"c{vi}s{si}.wav"
            write(path, audio)
            clips.append((path, pair[0], voice, None))
    return clips


def station(tmp, models_dir, name, **speech):
    text = (ROOT / "provisioning/examples/station.toml").read_text()
    text = text.replace('"../../var/data"', f'"{tmp}/data"').replace('"../../var/models"', f'"{Path(models_dir).resolve()}"')
    text = text.replace('roles_dir = "roles"', f'roles_dir = "{ROOT}/provisioning/examples/roles"')
    for key, value in speech.items():
        v = str(value).lower() if isinstance(value, bool) else str(value)
        if re.search(rf"^{key} = ", text, re.M):
            text = re.sub(rf"^{key} = \S+", f"{key} = {v}", text, flags=re.M)
        else:
            text = text.replace("[speech]", f"[speech]\n{key} = {v}", 1)
    path = tmp / f"station-{name}.toml"
    path.write_text(text)
    return path


def transcribe(kiosk, st, clips, prompt, tmp):
    """The transcripts, and the peak resident memory of the `kiosk transcribe` process in MB
    (GNU time: Python's own rusage of children is the maximum over all of them)."""
    peak = tmp / "peak.txt"
    args = ["/usr/bin/time", "-f", "%M", "-o", str(peak),
            kiosk, "transcribe", "--station", str(st), "--locale", "zh-CN", "--json"]
    if prompt is not None:
        args += ["--prompt", prompt]
    done = subprocess.run(args + [str(c[0]) for c in clips], check=True, capture_output=True, text=True)
    return json.loads(done.stdout), int(peak.read_text().split()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kiosk")
    ap.add_argument("models_dir")
    a = ap.parse_args()
    role = tomllib.loads((ROOT / "provisioning/examples/roles/factory-worker.toml").read_text())
    role_prompt = role["asr_prompt"]["zh"]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        clips = make_set(tmp)
        clean_set = make_clean_set(tmp)
        secs = sum(len(read(c[0])) for c in clips) / 16000
        print(f"Chinese set: {len(clips)} answers, {secs:.0f} s; voices {', '.join(v[0] for v in VOICES)}; "
              f"noise at 20/15/10 dB SNR on three voices; every other answer has a 2 s pause; "
              f"and a clean set of {len(clean_set)} single answers in {len(CLEAN_VOICES)} voices", file=sys.stderr)
        base = dict(trim_audio_ctx_zh=False, temperature_fallback_zh=True, beam_size_zh=1, suppress_non_speech_zh=False)
        levers = [
            ("no prompt", base, ""),
            ("general prompt (`transcribe` without a role)", base, None),
            ("role prompt (the app)", base, role_prompt),
            ("role prompt, no temperature fallback", {**base, "temperature_fallback_zh": False}, role_prompt),
            ("role prompt, beam 5", {**base, "beam_size_zh": 5}, role_prompt),
            ("role prompt, non-speech tokens suppressed", {**base, "suppress_non_speech_zh": True}, role_prompt),
            ("role prompt, audio window trimmed", {**base, "trim_audio_ctx_zh": True}, role_prompt),
            ("role prompt, flash attention", {**base, "flash_attn": True}, role_prompt),
            ("role prompt, flash attention, window trimmed", {**base, "flash_attn": True, "trim_audio_ctx_zh": True}, role_prompt),
        ]
        rows = []
        for i, (name, speech, prompt) in enumerate(levers):
            both, mb = transcribe(a.kiosk, station(tmp, a.models_dir, str(i), **speech), clips + clean_set, prompt, tmp)
            out, out_clean = both[: len(clips)], both[len(clips):]
            second = np.mean([cer(c[1], o["transcript"]) for c, o in zip(clean_set, out_clean)])
            errs = [cer(c[1], o["transcript"]) for c, o in zip(clips, out)]
            clean = [e for e, c in zip(errs, clips) if c[3] is None]
            noisy = [e for e, c in zip(errs, clips) if c[3] is not None]
            ms = sum(o["asr_ms"] for o in out) / len(out)
            rows.append((name, np.mean(errs), np.mean(clean), np.mean(noisy), second, ms, mb, out))
            # Each lever takes minutes on 2 cores: say each as it is measured.
            print(f"{name}: CER {np.mean(errs):.1%} (clean {np.mean(clean):.1%}, noisy {np.mean(noisy):.1%}; "
                  f"clean set {second:.1%}), "
                  f"{ms:.0f} ms per answer, peak {mb:.0f} MB", file=sys.stderr, flush=True)
    print("Chinese CER — Whisper base (the station's zh model), 2 threads, one run per lever")
    print("| lever | CER all | CER clean | CER noisy (10–20 dB) | CER, clean set | mean time per answer | peak memory (CLI) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, all_, clean, noisy, second, ms, mb, _ in rows:
        print(f"| {name} | {all_:.1%} | {clean:.1%} | {noisy:.1%} | {second:.1%} | {ms:.0f} ms | {mb:.0f} MB |")
    print()
    print("Examples (role prompt):")
    for c, o in list(zip(clips, rows[2][7]))[:: len(SET) + 1]:
        print(f"- {c[2]}{'' if c[3] is None else f' + noise {c[3]} dB'}: “{c[1]}” → “{o['transcript']}”")


if __name__ == "__main__":
    main()
