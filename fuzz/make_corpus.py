"""Writes the seed corpora of the fuzz targets: fuzz/corpus/<target>/.

Run from the checkout, with a Python that has PyTorch (1.13 was used) for the
pytorch_model.bin seeds: /usr/bin/python3 fuzz/make_corpus.py
The fuzzers need no Python; the outputs are committed. Every seed is small (a
few KB at most) and valid, or a near-miss a user could plausibly write.
"""
import io
import json
import os
import shutil
import struct
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
TINY = os.path.join(SHARED, "fixtures", "bert-tiny")


_started = set()


def write(target, name, data):
    """Writes one seed; a target's first seed of this run clears its folder."""
    folder = os.path.join(CORPUS, target)
    if target not in _started:
        _started.add(target)
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- safetensors

DTYPES = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B",
          "BOOL": "?"}


def safetensors(tensors, metadata=None, align=True):
    """tensors: [(name, dtype, shape, values)]; BF16 values are given as raw uint16."""
    header, data = {}, b""
    for name, dtype, shape, values in tensors:
        raw = struct.pack("<%dH" % len(values), *values) if dtype == "BF16" else \
            struct.pack("<%d%s" % (len(values), DTYPES[dtype]), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    if align:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    t = "fuzz_safetensors"
    write(t, "f32_bf16_i64.safetensors", safetensors(
        [("weight", "F32", [2, 3], [0.5, -1, 2, 3, 4, 5]), ("LayerNorm.gamma", "BF16", [3], [0x3f80, 0x4000, 0xbf80]),
         ("position_ids", "I64", [1, 4], [0, 1, 2, 3])], {"format": "pt"}))
    write(t, "f16_f64_empty_scalar.safetensors", safetensors(
        [("half", "F16", [2], [0.5, -2]), ("double", "F64", [1, 1], [3.25]), ("empty", "F32", [0, 3], []),
         ("scalar", "F32", [], [7])]))
    write(t, "ints_bool_unaligned.safetensors", safetensors(
        [("byte", "U8", [3], [1, 2, 255]), ("flag", "BOOL", [2], [True, False]), ("short", "I16", [2], [-1, 300]),
         ("int", "I32", [2], [-7, 1 << 30]), ("char", "I8", [1], [-128])], align=False))
    write(t, "metadata_only.safetensors", safetensors([], {"format": "pt", "source": "tformer"}))
    # A real checkpoint's names and header, its data section cut short (an error).
    real = read(os.path.join(TINY, "model.safetensors"))
    (n,) = struct.unpack("<Q", real[:8])
    write(t, "bert_tiny_header_truncated.safetensors", real[:8 + n + 64])


# ---------------------------------------------------------------- pytorch_model.bin

def torch_seeds():
    try:
        import torch
    except ImportError:
        print("no torch: pytorch_model.bin and data.pkl seeds left as they are", file=sys.stderr)
        return
    torch.manual_seed(0)
    files = {}

    def save(name, obj):
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        files[name] = buffer.getvalue()

    save("zeros.bin", {"w": torch.zeros(2, 3)})
    # A module's state dict: an OrderedDict with _metadata, Parameters, gamma/beta names.
    linear = torch.nn.Linear(3, 2)
    state = linear.state_dict()
    state["LayerNorm.gamma"] = torch.ones(2)
    state["LayerNorm.beta"] = torch.zeros(2, dtype=torch.bfloat16)
    save("state_dict.bin", state)
    x = torch.arange(6, dtype=torch.float16).reshape(2, 3)
    save("views.bin", {"t": x.t(), "col": x[:, 1], "long": torch.tensor([1, -2], dtype=torch.int64),
                       "flag": torch.tensor([True]), "int": torch.tensor([5], dtype=torch.int32),
                       "double": torch.tensor(2.5, dtype=torch.float64), "empty": torch.zeros(0, 2)})
    for name, data in files.items():
        write("fuzz_pytorch_bin", name, data)
    for name in ("strided.bin", "deflated.bin", "missing_storage.bin", "malicious_eval.bin", "legacy.bin"):
        write("fuzz_pytorch_bin", name, read(os.path.join(ROOT, "tests", "data", "io", name)))

    # fuzz_pytorch_pickle: flags (4: byteorder entry), storage count, bytes per storage, data.pkl.
    files["strided.bin"] = read(os.path.join(ROOT, "tests", "data", "io", "strided.bin"))
    for name, data in files.items():
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            count = sum(1 for n in z.namelist() if "/data/" in n)
            pickled = z.read(pkl)
        stem = name[:-len(".bin")]
        write("fuzz_pytorch_pickle", stem + ".in", struct.pack("<BBI", 4, count, 64) + pickled)
        write("fuzz_pytorch_pickle", stem + "_deflated.in", struct.pack("<BBI", 5 | 2, count, 64) + pickled)


# ---------------------------------------------------------------- sharded index

def index_seeds():
    t = "fuzz_sharded_index"
    shard = "model-00001-of-00001.safetensors"
    names = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.gamma",
             "bert.embeddings.LayerNorm.beta", "bert.embeddings.position_ids"]
    write(t, "index.json", json.dumps({"metadata": {"total_size": 62}, "weight_map": {n: shard for n in names}},
                                      indent=2))
    write(t, "subset.json", json.dumps({"weight_map": {names[0]: shard, names[2]: shard}}))
    write(t, "missing_shard.json", json.dumps({"weight_map": {names[0]: shard,
                                                              "classifier.weight": "model-00002-of-00002.safetensors"}}))


# ---------------------------------------------------------------- config.json

def config_seeds():
    t = "fuzz_bert_config"
    write(t, "bert_tiny.json", read(os.path.join(TINY, "config.json")))
    write(t, "empty.json", "{}")
    write(t, "num_labels.json", json.dumps({"model_type": "bert", "hidden_size": 64, "num_attention_heads": 4,
                                            "num_labels": 3, "hidden_act": "relu", "layer_norm_eps": 1e-5,
                                            "pad_token_id": 1, "vocab_size": 100}))
    write(t, "id2label_gelu_new.json", json.dumps({"id2label": {"0": "neg", "1": "neutral", "2": "pos"},
                                                   "label2id": {"neg": 0, "neutral": 1, "pos": 2},
                                                   "hidden_act": "gelu_new", "classifier_dropout": 0.2,
                                                   "max_position_embeddings": 64, "type_vocab_size": 1}))


def image_processor_config_seeds():
    t = "fuzz_image_processor_config"
    vit_tiny = os.path.join(SHARED, "fixtures", "vit-tiny")
    write(t, "vit_tiny.json", read(os.path.join(vit_tiny, "preprocessor_config.json")))
    write(t, "vit_tiny_224.json", read(os.path.join(vit_tiny, "preprocessor_config_224.json")))
    write(t, "empty.json", "{}")
    # Old ViTFeatureExtractor configs: size as an int, no rescale fields.
    write(t, "feature_extractor.json", json.dumps({"feature_extractor_type": "ViTFeatureExtractor", "size": 16,
                                                   "resample": 3, "image_mean": 0.5, "image_std": 0.5}))
    write(t, "no_resize.json", json.dumps({"do_resize": False, "do_rescale": False, "image_mean": [1, 2, 3],
                                           "image_std": [4, 5, 6], "size": [8, 12]}))
    # A near-miss: a CLIP-style size that ViTImageProcessor refuses.
    write(t, "shortest_edge.json", json.dumps({"image_processor_type": "ViTImageProcessor",
                                               "size": {"shortest_edge": 224}, "resample": 1}))


# ---------------------------------------------------------------- tokenizers

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def small_vocab():
    """Part of bert-base-uncased's vocabulary, renumbered: specials, ASCII, words of the texts."""
    with open(os.path.join(SHARED, "vocab", "bert-base-uncased", "vocab.txt"), encoding="utf-8") as f:
        real = f.read().split("\n")[:-1]
    chosen = list(SPECIALS) + real[999:1067]
    chosen += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    chosen += ["the", "is", "a", "and", "movie", "great", "hello", "world", "un", "##af", "##fa", "##able", "cafe",
               "naive", "na", "##ive", "don", "##s", "##ing", "##ed", "qu", "tal", "##ism", "##ment", "##ise",
               "\u6771", "\u4eac", "\u90fd", "\u00bf"]
    known = set(real)
    assert all(token in known for token in chosen), [t for t in chosen if t not in known]
    return list(dict.fromkeys(chosen))


def tokenizer_json(vocab):
    real = json.load(open(os.path.join(SHARED, "vocab", "bert-base-uncased", "tokenizer.json"), encoding="utf-8"))
    ids = {token: i for i, token in enumerate(vocab)}
    for added in real["added_tokens"]:
        added["id"] = ids[added["content"]]
    real["padding"]["pad_id"] = ids["[PAD]"]
    for special in real["post_processor"]["special_tokens"].values():
        special["ids"] = [ids[token] for token in special["tokens"]]
    real["model"]["vocab"] = ids
    return real


def tokenizer_seeds():
    vocab = small_vocab()
    full = tokenizer_json(vocab)
    write("fuzz_tokenizer_json", "bert_base_uncased_trimmed.json", json.dumps(full, ensure_ascii=False, indent=1))
    minimal = {"added_tokens": [{"id": 1, "content": "[UNK]", "special": True}],
               "normalizer": {"type": "BertNormalizer", "lowercase": False, "strip_accents": False},
               "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": None, "padding": None,
               "truncation": None,
               "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                         "max_input_chars_per_word": 8, "vocab": {"[PAD]": 0, "[UNK]": 1, "hello": 2, "##s": 3}}}
    write("fuzz_tokenizer_json", "minimal.json", json.dumps(minimal))
    bert_processing = dict(full, post_processor={"type": "BertProcessing", "sep": ["[SEP]", ids_of(vocab, "[SEP]")],
                                                 "cls": ["[CLS]", ids_of(vocab, "[CLS]")]})
    write("fuzz_tokenizer_json", "bert_processing.json", json.dumps(bert_processing, ensure_ascii=False))

    t = "fuzz_tokenizer_config"
    write(t, "bert_tiny.json", read(os.path.join(TINY, "tokenizer_config.json")))
    write(t, "special_tokens_map.json", read(os.path.join(TINY, "special_tokens_map.json")))
    write(t, "cased.json", json.dumps({"do_lower_case": False, "strip_accents": False, "tokenize_chinese_chars": False,
                                       "model_max_length": 512, "never_split": ["[X]"],
                                       "additional_special_tokens": ["[X]", {"content": "<e>", "lstrip": True}]}))
    write(t, "added_token.json", json.dumps({
        "added_tokens_decoder": {"30522": {"content": "[NEW]", "special": False, "lstrip": False, "rstrip": False,
                                           "normalized": True, "single_word": False}},
        "unk_token": {"content": "[UNK]", "__type": "AddedToken"}, "model_max_length": 1000000000000000019884624838656,
        "clean_up_tokenization_spaces": False}))

    t = "fuzz_vocab_txt"
    write(t, "small.txt", "\n".join(vocab[:5] + vocab[5 + 32:5 + 68] + vocab[73:99]) + "\n")
    write(t, "crlf_no_unk.txt", "\r\n".join(["[PAD]", "[CLS]", "[SEP]", "hello", "world", "##s", ",", "!"]) + "\r\n")
    write(t, "duplicates_blank.txt", "[UNK]\n[PAD]\nhello\n\nhello\n##\n##llo\nh\n \n\u00e9\n")


def ids_of(vocab, token):
    return vocab.index(token)


# ---------------------------------------------------------------- texts

def encode_seeds():
    t = "fuzz_bert_encode"
    texts = {
        "english.txt": "This movie is great! I don't think so... (really?)",
        "accents.txt": "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m e\u0301 \u00df STRASSE",
        "cjk.txt": "\u6771\u4eac\u90fd\u306b\u4f4f\u3093\u3067\u3044\u307e\u3059\u3002\ud55c\uad6d\uc5b4 \u4e2d\u6587abc",
        "emoji_zwj.txt": "\U0001F642\U0001F468\u200d\U0001F469\u200d\U0001F467 ok\u200b \ufeffbom \U0001F1EB\U0001F1F7",
        "pair.txt": "How old are you?\tI am six years old.",
        "specials.txt": "[CLS] hello [MASK] world [SEP] [UNK][PAD]x",
        "controls.txt": "tab\x0bvt\x0cff\x00nul\x7fdel\u0085nel\r\nend",
        "long_word.txt": "a" * 120 + " supercalifragilisticexpialidocious",
        "rtl_mixed.txt": "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd hello\u202eevil",
    }
    for name, text in texts.items():
        write(t, name, text)
    write(t, "invalid_utf8.txt", b"ok \xff\xfe \xc3( \xe2\x82 end")  # must be a tformer::Error


# ---------------------------------------------------------------- datasets

def dataset_seeds():
    t = "fuzz_dataset"
    tsv, csv, jsonl, skip_bad = 0, 1, 2, 4
    write(t, "sst2.tsv.in", bytes([tsv]) + b"sentence\tlabel\nit 's a charming journey . \t1\nawful \t0\n")
    write(t, "pairs_crlf_bom.tsv.in", bytes([tsv]) +
          "\ufeffidx\tsentence1\tsentence2\tlabel\r\n0\tA man.\tA person.\tpositive\r\n\r\n1\tx\ty\tnegative\r\n"
          .encode())
    write(t, "quoted.csv.in", bytes([csv]) +
          b'text,label\n"hello, ""world""",1\n"multi\nline",negative\nplain "quote" inside,0\n')
    write(t, "bad_rows_skipped.csv.in", bytes([csv | skip_bad]) +
          b"label,sentence\n1,ok\nmaybe,bad label\n-1,unlabelled\n2,out of range\n0\n0,good\n")
    write(t, "labels.jsonl.in", bytes([jsonl]) +
          '{"text": "caf\u00e9", "label": "positive"}\n{"sentence": "b", "label": 0, "idx": 3}\n\n'
          '{"question1": "q?", "question2": "r", "label": 1}\n'.encode())
    write(t, "bad_rows_skipped.jsonl.in", bytes([jsonl | skip_bad]) +
          b'{"text": "a", "label": 1}\nnot json\n{"text": 5, "label": 0}\n{"text": "b", "label": 1.5}\n[1]\n')


# ---------------------------------------------------------------- SentencePiece

def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([0x80 | (v & 0x7F)])
        v >>= 7
    return out + bytes([v])


def proto_field(field, payload):
    """A length-delimited protobuf field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def sentencepiece_seeds():
    """The real tok512 model and tokenizer.bin, a hand-made model with
    user-defined and unused pieces and no byte fallback, and seed texts."""
    stories = os.path.join(SHARED, "models", "stories260K")
    write("fuzz_sentencepiece_model", "tok512.model", read(os.path.join(stories, "tok512.model")))
    pieces = [("<unk>", 2), ("<s>", 3), ("</s>", 3), ("\u2581", 1), ("a", 1), ("b", 1), ("\u2581a", 1),
              ("ab", 5), ("\u2581ab", 1), ("<user>", 4)]
    model = b"".join(proto_field(1, proto_field(1, text.encode()) + varint(2 << 3 | 5) +
                                 struct.pack("<f", -i) + varint(3 << 3) + varint(kind))
                     for i, (text, kind) in enumerate(pieces))
    model += proto_field(2, varint(3 << 3) + varint(2)) + proto_field(3, proto_field(1, b"identity"))
    write("fuzz_sentencepiece_model", "small_unused_user_defined.model", model)
    write("fuzz_llama2c_tokenizer", "tok512.bin", read(os.path.join(stories, "tok512.bin")))
    texts = os.path.join(SHARED, "fixtures", "llama-tiny", "tokenizer.jsonl")
    with open(texts, encoding="utf-8") as f:
        for i, line in enumerate(f):
            text = json.loads(line)["text"]
            if text:
                write("fuzz_sentencepiece_encode", "case%02d.txt" % i, text.encode())
    write("fuzz_sentencepiece_encode", "specials.txt", "<s>a</s><unk> b  \u2581 <s".encode())


def main():
    safetensors_seeds()
    torch_seeds()
    index_seeds()
    config_seeds()
    image_processor_config_seeds()
    tokenizer_seeds()
    encode_seeds()
    dataset_seeds()
    sentencepiece_seeds()


if __name__ == "__main__":
    main()
