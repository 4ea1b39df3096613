#!/usr/bin/env python3
"""Converts an OpenAI Whisper model in CTranslate2 format (model.bin + tokenizer.json) to the ggml
file whisper.cpp (and so whisper-rs) loads. Deterministic: the same input gives the same bytes.

    ct2_to_ggml.py MODEL.BIN TOKENIZER.JSON OUT.BIN [--q8_0]

Types follow whisper.cpp's own converter exactly (its loader checks byte sizes, not types): f32 for
1-D tensors, conv biases and positional embeddings; f16 for 2-D weights and conv kernels. With
--q8_0 the 2-D weights are quantised the way whisper.cpp's `quantize` tool does (Q8_0 blocks of
32 values with an f16 scale; conv kernels stay f16, positional embeddings f32).
"""
import json
import re
import struct
import sys

import numpy as np

DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path):
    """Returns {name: ndarray} for every variable of a CTranslate2 model.bin (aliases resolved)."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def take(n):
        nonlocal pos
        out = data[pos:pos + n]
        pos += n
        return out

    def u32():
        return struct.unpack("<I", take(4))[0]

    def string():
        n = struct.unpack("<H", take(2))[0]
        return take(n)[:-1].decode("utf-8")

    version = u32()
    if version < 5:
        sys.exit(f"unsupported CTranslate2 binary version {version}")
    spec = string()
    if spec != "WhisperSpec":
        sys.exit(f"{path} is a {spec}, not a Whisper model")
    u32()  # revision
    variables = {}
    for _ in range(u32()):
        name = string()
        rank = take(1)[0]
        dims = [u32() for _ in range(rank)]
        dtype = take(1)[0]
        nbytes = u32()
        if dtype not in DTYPES:
            sys.exit(f"variable {name}: unsupported dtype code {dtype}")
        variables[name] = np.frombuffer(take(nbytes), dtype=DTYPES[dtype]).reshape(dims)
    for _ in range(u32()):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return variables


def mel_filters(sr=16000, n_fft=400, n_mels=80):
    """Slaney-style mel filter bank (librosa.filters.mel defaults), shape [n_mels, 1 + n_fft // 2]."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0

    def hz_to_mel(f):
        f = np.asanyarray(f, dtype=np.float64)
        mel = f / f_sp
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mel)

    def mel_to_hz(m):
        m = np.asanyarray(m, dtype=np.float64)
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights.astype(np.float32)


def byte_decoder():
    """GPT-2's byte-level BPE: the printable character standing for each byte, reversed."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def vocabulary(tokenizer_path):
    """The byte strings of the BPE tokens before <|endoftext|>, in id order."""
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    eot = next((t["id"] for t in tok.get("added_tokens", []) if t["content"] == "<|endoftext|>"), vocab.get("<|endoftext|>"))
    if eot is None:
        sys.exit("tokenizer.json has no <|endoftext|>")
    decode = byte_decoder()
    by_id = {i: s for s, i in vocab.items() if i < eot}
    if len(by_id) != eot:
        sys.exit(f"tokenizer.json: expected {eot} tokens before <|endoftext|>, found {len(by_id)}")
    return [bytes(decode[c] for c in by_id[i]) for i in range(eot)]


def rename(v):
    """Yields (ggml name, array) pairs in whisper.cpp's naming."""
    def layers(prefix):
        return sorted({int(m.group(1)) for k in v for m in [re.match(rf"{prefix}/layer_(\d+)/", k)] if m})

    def norm(src, dst):
        yield f"{dst}.weight", v[f"{src}/gamma"]
        yield f"{dst}.bias", v[f"{src}/beta"]

    def linear(src, dst):
        yield f"{dst}.weight", v[f"{src}/weight"]
        yield f"{dst}.bias", v[f"{src}/bias"]

    def self_attention(s, d):
        # q, k, v fused in thirds; whisper has no key bias (CTranslate2 stores zeros).
        w, b = v[f"{s}/self_attention/linear_0/weight"], v[f"{s}/self_attention/linear_0/bias"]
        for n, pw, pb in zip(["query", "key", "value"], np.split(w, 3), np.split(b, 3)):
            yield f"{d}.attn.{n}.weight", pw
            if n != "key":
                yield f"{d}.attn.{n}.bias", pb
        yield from linear(f"{s}/self_attention/linear_1", f"{d}.attn.out")
        yield from norm(f"{s}/self_attention/layer_norm", f"{d}.attn_ln")

    def cross_attention(s, d):
        # k, v fused in halves; again no key bias.
        yield from linear(f"{s}/attention/linear_0", f"{d}.cross_attn.query")
        kw, vw = np.split(v[f"{s}/attention/linear_1/weight"], 2)
        _, vb = np.split(v[f"{s}/attention/linear_1/bias"], 2)
        yield f"{d}.cross_attn.key.weight", kw
        yield f"{d}.cross_attn.value.weight", vw
        yield f"{d}.cross_attn.value.bias", vb
        yield from linear(f"{s}/attention/linear_2", f"{d}.cross_attn.out")
        yield from norm(f"{s}/attention/layer_norm", f"{d}.cross_attn_ln")

    def feed_forward(s, d):
        yield from norm(f"{s}/ffn/layer_norm", f"{d}.mlp_ln")
        yield from linear(f"{s}/ffn/linear_0", f"{d}.mlp.0")
        yield from linear(f"{s}/ffn/linear_1", f"{d}.mlp.2")

    for c in ("conv1", "conv2"):
        yield f"encoder.{c}.weight", v[f"encoder/{c}/weight"]
        yield f"encoder.{c}.bias", v[f"encoder/{c}/bias"].reshape(-1, 1)
    yield "encoder.positional_embedding", v["encoder/position_encodings/encodings"]
    for i in layers("encoder"):
        s, d = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        yield from self_attention(s, d)
        yield from feed_forward(s, d)
    yield from norm("encoder/layer_norm", "encoder.ln_post")
    yield "decoder.token_embedding.weight", v["decoder/embeddings/weight"]
    yield "decoder.positional_embedding", v["decoder/position_encodings/encodings"]
    for i in layers("decoder"):
        s, d = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        yield from self_attention(s, d)
        yield from cross_attention(s, d)
        yield from feed_forward(s, d)
    yield from norm("decoder/layer_norm", "decoder.ln")


GGML_TYPE_Q8_0 = 8
GGML_FTYPE_MOSTLY_Q8_0 = 7
GGML_QNT_VERSION = 2
GGML_QNT_VERSION_FACTOR = 1000


def q8_0(data):
    """ggml's Q8_0 encoding of a float array whose last dimension is a multiple of 32."""
    blocks = data.astype(np.float32).reshape(-1, 32)
    d = np.abs(blocks).max(axis=1) / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    x = blocks * inv[:, None]
    q = (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int8)  # roundf: half away from zero
    out = np.empty(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", 32)])
    out["d"] = d.astype(np.float16)
    out["qs"] = q
    return out.tobytes()


def convert(model_bin, tokenizer_json, out_path, quantise=False):
    v = read_ct2(model_bin)
    n_layers = lambda p: len({m.group(1) for k in v for m in [re.match(rf"{p}/layer_(\d+)/", k)] if m})
    enc_pos, dec_pos = v["encoder/position_encodings/encodings"], v["decoder/position_encodings/encodings"]
    hparams = [
        v["decoder/embeddings/weight"].shape[0],  # n_vocab
        enc_pos.shape[0], enc_pos.shape[1], int(v["encoder/num_heads"]), n_layers("encoder"),
        dec_pos.shape[0], dec_pos.shape[1], int(v["decoder/num_heads"]), n_layers("decoder"),
        v["encoder/conv1/weight"].shape[1],  # n_mels
        GGML_FTYPE_MOSTLY_Q8_0 + GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR if quantise else 1,
    ]
    filters = mel_filters(n_mels=hparams[9])
    tokens = vocabulary(tokenizer_json)
    with open(out_path, "wb") as out:
        out.write(struct.pack("<i", 0x67676D6C))
        out.write(struct.pack("<" + "i" * len(hparams), *hparams))
        out.write(struct.pack("<ii", *filters.shape))
        out.write(filters.tobytes())
        out.write(struct.pack("<i", len(tokens)))
        for t in tokens:
            out.write(struct.pack("<i", len(t)))
            out.write(t)
        for name, data in rename(v):
            data = np.ascontiguousarray(data)
            f32 = data.ndim < 2 or name in ("encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding")
            q8 = quantise and data.ndim == 2 and not f32 and data.shape[-1] % 32 == 0
            data = data.astype(np.float32 if f32 else np.float16)
            encoded = name.encode("utf-8")
            out.write(struct.pack("<iii", data.ndim, len(encoded), GGML_TYPE_Q8_0 if q8 else (0 if f32 else 1)))
            out.write(struct.pack("<" + "i" * data.ndim, *reversed(data.shape)))
            out.write(encoded)
            out.write(q8_0(data) if q8 else data.tobytes())
    print(f"{out_path}: vocab {hparams[0]}, audio {hparams[1]}x{hparams[2]} h{hparams[3]} l{hparams[4]}, text {hparams[5]}x{hparams[6]} h{hparams[7]} l{hparams[8]}, {len(tokens)} tokens")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--q8_0"]
    if len(args) != 3:
        sys.exit(__doc__)
    convert(*args, quantise="--q8_0" in sys.argv)
