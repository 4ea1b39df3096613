#!/usr/bin/env python3
"""ASR benchmark: the kiosk's whisper-rs against faster-whisper on the same Whisper tiny.en weights,
the same clips and the same thread count, in one run: espeak-ng speech of about 3, 8 and 20 s, and
twelve answers with thinking pauses (sentences joined by 1.5–2.5 s of silence, about 10, 20 and
30 s long, four of each, in four voices and speeds) that a live end-pointer would have cut at the
first pause. Prints time, word error rate (after Whisper's English normalisation of contractions
and numbers) and words heard per clip, then per length the total time, the speed ratio and the WER
over all of that length's words: without a prompt, and with the factory-worker role's English
prompt as the app passes it (to both). Last, faster-whisper's own engine over windows trimmed as
ours are (answer + 0.5 s and longer, up to its full 30 s): what the trimmed window costs, apart
from what the engine does. Not a test.

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
# Answers with pauses: (name, sentences, pauses between them in seconds), in espeak-ng's default
# American voice at 150 wpm.
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
# More answers with pauses, other words in other voices (espeak-ng voice, wpm, pitch 0–99): one
# word decides a short answer's WER, so each length is judged on four answers.
VOICES = [
    ("British, female", "en-gb-x-rp+f3", 140, 60, [
        (["I am a nurse and I like to care for people.", "I have worked nights in a care home.",
          "I can come in on Sundays."], [1.8, 2.2]),
        (["I left my last job because the shop closed down.", "I sold phones and helped customers choose a plan.",
          "My manager said I was always on time.", "I would like a full time job."], [2.0, 1.6, 2.4]),
        (["I have driven a delivery van for four years.", "Before that I stacked shelves in a supermarket at night.",
          "I know how to use a hand scanner and a pallet truck.", "I do not mind lifting heavy boxes.",
          "I would like to stay with one company for a long time.",
          "My last manager would give me a good reference."], [1.6, 2.3, 1.9, 2.1, 1.7]),
    ]),
    ("American, faster", "en-us+m3", 165, 40, [
        (["Yes, I can work two shifts.", "I have a bike, so I can get here early.",
          "I am free from Monday to Friday."], [1.5, 2.4]),
        (["I worked in a bakery for two years.", "I started at five in the morning and cleaned the machines.",
          "I learned to keep the floor safe and dry.", "I want to learn more about food safety."], [2.2, 1.7, 2.0]),
        (["At my last job I packed parcels in a large warehouse.", "We had to meet a target every hour.",
          "I was often the fastest on my team.", "Sometimes I trained the new people on the scanner.",
          "I am looking for a job with more regular hours.", "I can also stay late on Fridays when the shop is busy.",
          "My sister works here and she says the team is kind."], [1.9, 1.5, 2.5, 1.8, 2.2, 1.6]),
    ]),
    ("Scottish, slower", "en-gb-scotland", 135, 50, [
        (["I finished school last summer.", "I helped my uncle in his small shop.",
          "I am good with numbers."], [2.1, 1.7]),
        (["I have cleaned offices in the evening for a year.", "I always check my work before I leave.",
          "I can follow a checklist and I ask when I am not sure.", "I live ten minutes away."], [1.6, 2.3, 1.9]),
        (["I want to work in a factory because I like to make things.", "At school I enjoyed working with tools.",
          "Last year I did a short course on machine safety.", "I am patient and I work well in a team.",
          "I can start as soon as you need me.", "My friend works here and she says it is a good place."],
         [2.4, 1.8, 2.0, 1.5, 2.2]),
    ]),
]
for _label, _voice, _wpm, _pitch, _answers in VOICES:
    for _secs, (_sentences, _pauses) in zip((10, 20, 30), _answers):
        PAUSED.append((f"{_secs} s paused, {_label}", _sentences, _pauses, (_voice, _wpm, _pitch)))

ROOT = Path(__file__).resolve().parents[2]


# Whisper's English normalisation before WER (part of OpenAI's EnglishTextNormalizer), on both
# sides: contractions written out and numbers up to twenty as words, so "I'm" for "I am" or "2"
# for "two" is not counted as a recognition error.
CONTRACTIONS = [(r"\bwon't\b", "will not"), (r"\bcan't\b", "can not"), (r"\blet's\b", "let us"),
                (r"n't\b", " not"), (r"'re\b", " are"), (r"'s\b", " is"), (r"'d\b", " would"),
                (r"'ll\b", " will"), (r"'ve\b", " have"), (r"'m\b", " am")]
NUMBERS = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                         "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()))


def words(s):
    s = s.lower().replace("\u2019", "'")
    for pattern, full in CONTRACTIONS:
        s = re.sub(pattern, full, s)
    out = re.sub(r"[^a-z0-9' ]", " ", s).replace("'", "").split()
    return [NUMBERS.get(int(w), w) if w.isdigit() else w for w in out]


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


def speak(tmp, stem, text, pad=(0.3, 0.3), voice=("en-us", 150, 50)):
    raw, wav = tmp / f"{stem}.raw.wav", tmp / f"{stem}.wav"
    subprocess.run(["espeak-ng", "-v", voice[0], "-s", str(voice[1]), "-p", str(voice[2]), "-w", str(raw), text],
                   check=True)
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
    for name, sentences, pauses, *voice in PAUSED:
        stem = re.sub(r"[^a-z0-9]+", "-", name.lower())
        parts = [str(speak(tmp, f"{stem}-{i}", s, (0.3 if i == 0 else 0, 0), *voice)) for i, s in enumerate(sentences)]
        args = []
        for i, part in enumerate(parts):
            args.append(part)
            if i < len(pauses):
                gap = tmp / f"{stem}-gap{i}.wav"
                subprocess.run(["sox", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0", str(pauses[i])],
                               check=True)
                args.append(str(gap))
        wav = tmp / f"{stem}.wav"
        subprocess.run(["sox", "-D", *args, str(wav), "pad", "0", "0.3"], check=True)
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


def samples(wav):
    """A 16-bit mono WAV file's samples as float32 in [-1, 1)."""
    with wave.open(str(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0


def faster(model_dir, clips, runs, threads, compute_type, vad=False, prompt=None):
    from faster_whisper import WhisperModel
    model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1)
    res = {}
    for name, (wav, _, _) in clips.items():
        audio = samples(wav)
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


# How far past the answer's end the window reaches in the sweep: our trimmed window's half second,
# longer ones, and the whole 30 s window (faster-whisper's).
SWEEP_MARGINS = (0.5, 2.0, 5.0, 10.0, 20.0, None)


def window_sweep(model_dir, clips, runs, threads, compute_type="int8"):
    """faster-whisper's engine (CTranslate2) over windows trimmed as ours are, to tell what the
    trimmed window costs from what the engine does: the paused answers that fit in one window, their
    pauses kept, faster-whisper's own log-mel features, greedy, one window per answer. Returns
    {margin: {length: (ms, errors, said)}} (margin None: the full 30 s window)."""
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper import WhisperModel
    fw = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1)
    tokenizer = Tokenizer(fw.hf_tokenizer, multilingual=False, task="transcribe", language="en")
    extract = FeatureExtractor(feature_size=80)
    # Each answer's features once, padded to the full window; each margin reads a prefix.
    padded = {}
    for name, (wav, _, secs) in clips.items():
        if "paused" in name and secs <= 29:
            f = extract(samples(wav), padding=160)[:, :3000]
            padded[name] = np.zeros((80, 3000), dtype=np.float32)
            padded[name][:, :f.shape[1]] = f
    out = {}
    for margin in SWEEP_MARGINS:
        per = out.setdefault(margin, {})
        for name, feats in padded.items():
            _, ref, secs = clips[name]
            frames = 3000 if margin is None else min(3000, 2 * int(np.ceil((secs + margin) * 50)))
            window = np.ascontiguousarray(feats[None, :, :frames])
            times = []
            for i in range(runs + 1):
                t = time.perf_counter()
                r = fw.model.generate(ctranslate2.StorageView.from_array(window), [[tokenizer.sot]],
                                      beam_size=1, max_length=448)
                if i:
                    times.append((time.perf_counter() - t) * 1000)
            text = tokenizer.decode([t for t in r[0].sequences_ids[0] if t < tokenizer.eot])
            ms, errors, said = per.get(length_class(name), (0.0, 0, 0))
            per[length_class(name)] = (ms + statistics.median(times), errors + distance(words(ref), words(text)),
                                       said + len(words(ref)))
    return out


def cpu_times():
    """(total, steal) clock ticks from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:9]]
        return sum(ticks), ticks[7]
    except (OSError, ValueError, IndexError):
        return None


def length_class(name):
    """The clips a summary row adds up: each single answer alone, the paused ones by length."""
    return name.split(",")[0]


def summary(title, clips, systems, ours_key, fws, show):
    """Per length: our total time against faster-whisper's fastest setting, our WER (word errors
    over words said, all of the length's answers together) against its most accurate setting
    (they differ). The target is ≥ 2× faster and WER within 1 point, on every length."""
    print(f"\nOurs beside faster-whisper, {title}:")
    print("| answers | ours (Q8_0, trimmed: the station default) | faster-whisper fastest | ratio (faster-whisper ÷ ours) "
          "| WER ours | faster-whisper's lowest WER | target (≥ 2×, WER ≤ theirs + 1 pt) | words ours / theirs / said |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    classes = {}
    for name in clips:
        classes.setdefault(length_class(name), []).append(name)

    def totals(system, names):
        ms = sum(systems[system][n][0] for n in names)
        errors = sum(distance(words(clips[n][1]), words(systems[system][n][1])) for n in names)
        heard = sum(len(words(systems[system][n][1])) for n in names)
        return ms, errors, heard

    for label, names in classes.items():
        said = sum(len(words(clips[n][1])) for n in names)
        secs = sum(clips[n][2] for n in names)
        ours_ms, ours_err, ours_heard = totals(ours_key, names)
        theirs = {k: totals(k, names) for k in fws}
        fast = min(fws, key=lambda k: theirs[k][0])
        acc = min(fws, key=lambda k: (theirs[k][1], theirs[k][0]))
        fw_ms = theirs[fast][0]
        _, fw_err, fw_heard = theirs[acc]
        ratio, our_wer, fw_wer = fw_ms / ours_ms, ours_err / said, fw_err / said
        met = "met" if ratio >= 2 and our_wer <= fw_wer + 0.01 else "NOT met"
        what = f"{label} ({secs:.1f} s)" if len(names) == 1 else f"{label}: {len(names)} answers, {secs:.0f} s"
        print(f"| {what} | {ours_ms:.0f} ms | {fw_ms:.0f} ms ({fast.removeprefix('faster-whisper ')}) | {ratio:.2f}× | "
              f"{our_wer:.1%} ({ours_err}) | {fw_wer:.1%} ({fw_err}, {acc.removeprefix('faster-whisper ')}) | {met} | "
              f"{ours_heard} / {fw_heard} / {said} |")
        if show:
            for n in names:
                print(f"  {n}\n  said:           {clips[n][1]}\n  ours:           {systems[ours_key][n][1]}\n"
                      f"  faster-whisper: {systems[acc][n][1]}", file=sys.stderr)


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
        sweep = window_sweep(a.ct2_model_dir, clips, min(a.runs, 3), a.threads)
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
    print(f"\nWhat the trimmed window costs, in faster-whisper's engine (CTranslate2 int8, its own features, "
          f"pauses kept, one window per answer; errors / words said, time summed over the answers):")
    lengths = list(sweep[SWEEP_MARGINS[0]])
    print("| window | " + " | ".join(lengths) + " |")
    print("|---|" + "---:|" * len(lengths))
    for margin, per in sweep.items():
        label = "full 30 s (faster-whisper's)" if margin is None else f"answer + {margin:g} s"
        print(f"| {label} | " + " | ".join(f"{per[k][1]} / {per[k][2]} errors, {per[k][0]:.0f} ms" for k in lengths) + " |")
    cpu_end = cpu_times()
    if cpu_start and cpu_end and cpu_end[0] > cpu_start[0]:
        steal = (cpu_end[1] - cpu_start[1]) / (cpu_end[0] - cpu_start[0])
        print(f"CPU time taken by the hypervisor during the run (steal): {steal:.0%}")


if __name__ == "__main__":
    main()
