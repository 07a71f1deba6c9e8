#!/usr/bin/python3
"""Long-lived pocketsphinx decoder for one call.

Loads the acoustic model once, then decodes utterances sent on stdin as frames of
<uint32 little-endian byte length><s16le mono PCM at --samprate>, answering each with one JSON
line on stdout. A zero-length frame is a ping (answered with {"ready": true}).

With --corpus, it builds a small bigram language model (absolute discounting with back-off) from
domain sentences, and a dictionary restricted to their words: on phone-quality speech that beats
the stock 130k-word model by a wide margin while still allowing any word order.
"""
import argparse
import collections
import json
import math
import os
import re
import sys
import tempfile
import time

from pocketsphinx import Decoder

MODEL_ROOT = '/usr/share/pocketsphinx/model/en-us'
DISCOUNT = 0.5


def read_exact(stream, n):
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def words_of(sentence):
    return re.sub(r"[^a-z' ]+", ' ', sentence.lower()).split()


def load_dictionary(path):
    entries = collections.defaultdict(list)
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            base = re.sub(r'\(\d+\)$', '', parts[0])
            entries[base].append(' '.join(parts[1:]))
    return entries


def build_domain_model(corpus_path, dict_path, workdir):
    pronunciations = load_dictionary(dict_path)
    sentences = []
    with open(corpus_path, encoding='utf-8') as f:
        for line in f:
            words = [w for w in words_of(line) if w in pronunciations]
            if words:
                sentences.append(['<s>'] + words + ['</s>'])
    if not sentences:
        raise SystemExit('corpus has no word the dictionary knows')

    unigrams = collections.Counter(w for s in sentences for w in s)
    bigrams = collections.Counter((a, b) for s in sentences for a, b in zip(s, s[1:]))
    vocab = sorted(unigrams)
    total = sum(c for w, c in unigrams.items() if w != '<s>')
    p_uni = {w: unigrams[w] / total for w in vocab if w != '<s>'}

    history_count = collections.Counter()
    followers = collections.defaultdict(list)
    for (a, b), c in bigrams.items():
        history_count[a] += c
        followers[a].append(b)

    backoff = {}
    for h in vocab:
        if h == '</s>' or history_count[h] == 0:
            backoff[h] = 0.0
            continue
        left = DISCOUNT * len(followers[h]) / history_count[h]
        covered = sum(p_uni.get(w, 0.0) for w in followers[h])
        backoff[h] = left / max(1e-9, 1.0 - covered)

    lm_path = os.path.join(workdir, 'domain.arpa')
    with open(lm_path, 'w') as out:
        out.write('\\data\\\n')
        out.write('ngram 1=%d\nngram 2=%d\n\n' % (len(vocab), len(bigrams)))
        out.write('\\1-grams:\n')
        for w in vocab:
            prob = -99.0 if w == '<s>' else math.log10(p_uni[w])
            bo = math.log10(backoff[w]) if backoff[w] > 0 else -99.0
            out.write('%.4f %s %.4f\n' % (prob, w, bo))
        out.write('\n\\2-grams:\n')
        for (a, b), c in sorted(bigrams.items()):
            out.write('%.4f %s %s\n' % (math.log10((c - DISCOUNT) / history_count[a]), a, b))
        out.write('\n\\end\\\n')

    dict_out = os.path.join(workdir, 'domain.dict')
    with open(dict_out, 'w') as out:
        for w in vocab:
            if w in ('<s>', '</s>'):
                continue
            for i, pron in enumerate(pronunciations[w]):
                out.write('%s %s\n' % (w if i == 0 else '%s(%d)' % (w, i + 1), pron))
    return lm_path, dict_out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--hmm', default=os.path.join(MODEL_ROOT, 'en-us'))
    parser.add_argument('--dict', default=os.path.join(MODEL_ROOT, 'cmudict-en-us.dict'))
    parser.add_argument('--lm', default=os.path.join(MODEL_ROOT, 'en-us.lm.bin'))
    parser.add_argument('--corpus')
    parser.add_argument('--jsgf')
    parser.add_argument('--samprate', type=int, default=16000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix='voicefleet-ps-')
    config = Decoder.default_config()
    config.set_string('-hmm', args.hmm)
    config.set_float('-samprate', float(args.samprate))
    if args.samprate == 8000:
        config.set_int('-nfft', 256)
    config.set_string('-logfn', os.devnull)
    if args.jsgf:
        config.set_string('-dict', args.dict)
        config.set_string('-jsgf', args.jsgf)
    elif args.corpus:
        lm, dictionary = build_domain_model(args.corpus, args.dict, workdir)
        config.set_string('-lm', lm)
        config.set_string('-dict', dictionary)
    else:
        config.set_string('-lm', args.lm)
        config.set_string('-dict', args.dict)
    decoder = Decoder(config)

    stdin = sys.stdin.buffer
    stdout = sys.stdout
    while True:
        header = read_exact(stdin, 4)
        if header is None:
            return
        length = int.from_bytes(header, 'little')
        if length == 0:
            stdout.write(json.dumps({'ready': True}) + '\n')
            stdout.flush()
            continue
        pcm = read_exact(stdin, length)
        if pcm is None:
            return
        started = time.time()
        decoder.start_utt()
        decoder.process_raw(pcm, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        text = hyp.hypstr if hyp is not None else ''
        score = hyp.best_score if hyp is not None else 0
        stdout.write(json.dumps({'text': text, 'score': score, 'ms': round((time.time() - started) * 1000, 1)}) + '\n')
        stdout.flush()


if __name__ == '__main__':
    main()
