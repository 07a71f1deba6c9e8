#!/usr/bin/python3
"""Long-lived pocketsphinx decoder: loads a model once, then decodes utterances sent on stdin.

Run by /usr/bin/python3: Debian's python3-pocketsphinx is not importable by other interpreters.

Protocol (stdin is binary; Node hands a child a socket, not a pipe, so only plain reads work):
  1. one JSON line of configuration:
       {"hmm": dir, "dict": path, "samprate": 16000|8000, "nfft": int?,
        and one of "lm": path | "jsgf": grammar text | "corpus": [sentence, ...]}
  2. then any number of utterances, each <uint32 little-endian byte count><s16le mono PCM>.
stdout carries one JSON line per event:
  {"ready": true, "vocabulary": n, "dropped": [...]}  once the model is loaded;
  {"text": str, "confidence": 0..1, "score": int, "frames": n, "ms": float}  per utterance;
  {"error": str}  for an utterance that could not be decoded (the process carries on);
  {"fatal": str}  when the configuration cannot be loaded (the process then exits).
"""
import collections
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time

from pocketsphinx import Decoder

# Absolute discount for the corpus bigram model; 0.5 keeps most of each seen bigram's mass while
# leaving unseen word orders reachable.
DISCOUNT = 0.5
SENTENCE_MARKS = ('<s>', '</s>')


def claim_stdout():
    """Anything the C library or a stray print writes to fd 1 would corrupt the protocol, so the
    protocol gets a private copy of stdout and fd 1 is pointed at stderr."""
    protocol = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    os.dup2(2, 1)
    return protocol


def emit(out, message):
    out.write(json.dumps(message) + '\n')
    out.flush()


def read_exact(stream, n):
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def tokenize(sentence):
    return [w.strip("'") for w in re.sub(r"[^a-z0-9']+", ' ', sentence.lower()).split() if w.strip("'")]


def load_pronunciations(path):
    """word -> list of phone strings (alternates like 'word(2)' folded into 'word')."""
    entries = collections.defaultdict(list)
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                entries[re.sub(r'\(\d+\)$', '', parts[0])].append(' '.join(parts[1:]))
    return entries


def corpus_runs(sentences, known):
    """Splits each sentence into runs of dictionary words, each made a sentence of its own: an
    unknown word ends a run, so no bigram is invented across it. Returns the runs and the sorted
    unknown words."""
    runs, dropped = [], set()
    for sentence in sentences:
        run = []
        for word in tokenize(sentence) + [None]:
            if word in known:
                run.append(word)
                continue
            if word is not None:
                dropped.add(word)
            if run:
                runs.append(['<s>'] + run + ['</s>'])
            run = []
    return runs, sorted(dropped)


def write_arpa(runs, path):
    """Bigram ARPA model with absolute discounting and back-off to the unigram distribution.

    P(w|h) = (c(h,w) - D) / c(h) for seen pairs; otherwise alpha(h) * P(w), where alpha(h) gives
    the discounted mass D * N1+(h) / c(h) to the words never seen after h.
    """
    unigrams = collections.Counter(w for run in runs for w in run)
    bigrams = collections.Counter((a, b) for run in runs for a, b in zip(run, run[1:]))
    vocab = sorted(unigrams)
    total = sum(c for w, c in unigrams.items() if w != '<s>')
    p_uni = {w: c / total for w, c in unigrams.items() if w != '<s>'}

    history_total = collections.Counter()
    followers = collections.defaultdict(set)
    for (a, b), c in bigrams.items():
        history_total[a] += c
        followers[a].add(b)
    unseen_mass = {h: 1.0 - sum(p_uni[w] for w in followers[h]) for h in followers}
    # When every word already follows h, no word could take discounted mass: keep counts as they are.
    discount = {h: DISCOUNT if unseen_mass[h] > 1e-9 else 0.0 for h in followers}

    def log_backoff(h):
        if h not in followers:
            return None
        if not discount[h]:
            return 0.0
        left = discount[h] * len(followers[h]) / history_total[h]
        return math.log10(left / unseen_mass[h])

    with open(path, 'w', encoding='utf-8') as out:
        out.write('\\data\\\nngram 1=%d\nngram 2=%d\n\n\\1-grams:\n' % (len(vocab), len(bigrams)))
        for w in vocab:
            prob = -99.0 if w == '<s>' else math.log10(p_uni[w])
            bo = log_backoff(w)
            out.write('%.6f %s %.6f\n' % (prob, w, bo) if bo is not None else '%.6f %s\n' % (prob, w))
        out.write('\n\\2-grams:\n')
        for (a, b), c in sorted(bigrams.items()):
            out.write('%.6f %s %s\n' % (math.log10((c - discount[a]) / history_total[a]), a, b))
        out.write('\n\\end\\\n')
    return [w for w in vocab if w not in SENTENCE_MARKS]


def write_dictionary(words, pronunciations, path):
    with open(path, 'w', encoding='utf-8') as out:
        for w in words:
            for i, phones in enumerate(pronunciations[w]):
                out.write('%s %s\n' % (w if i == 0 else '%s(%d)' % (w, i + 1), phones))


def build_config(request, workdir):
    """Returns the decoder config plus what the ready message reports."""
    config = Decoder.default_config()
    config.set_string('-hmm', request['hmm'])
    config.set_float('-samprate', float(request.get('samprate', 16000)))
    if request.get('nfft'):
        config.set_int('-nfft', int(request['nfft']))
    config.set_string('-logfn', os.devnull)
    info = {'vocabulary': None, 'dropped': []}
    if request.get('jsgf'):
        grammar = os.path.join(workdir, 'grammar.jsgf')
        with open(grammar, 'w', encoding='utf-8') as f:
            f.write(request['jsgf'])
        config.set_string('-jsgf', grammar)
        config.set_string('-dict', request['dict'])
    elif request.get('corpus'):
        pronunciations = load_pronunciations(request['dict'])
        runs, dropped = corpus_runs(request['corpus'], pronunciations)
        if not runs:
            raise ValueError('the corpus has no word the dictionary knows')
        lm, dictionary = os.path.join(workdir, 'corpus.arpa'), os.path.join(workdir, 'corpus.dict')
        words = write_arpa(runs, lm)
        write_dictionary(words, pronunciations, dictionary)
        config.set_string('-lm', lm)
        config.set_string('-dict', dictionary)
        info = {'vocabulary': len(words), 'dropped': dropped}
    else:
        config.set_string('-lm', request['lm'])
        config.set_string('-dict', request['dict'])
    return config, info


def is_word(token):
    return not (token.startswith('<') or token.startswith('[')) and token not in SENTENCE_MARKS


def decode(decoder, logmath, pcm):
    started = time.time()
    decoder.start_utt()
    decoder.process_raw(pcm, False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    text = ' '.join(hyp.hypstr.split()) if hyp is not None else ''
    # Mean posterior of the recognized words: pocketsphinx has no calibrated utterance confidence,
    # but word posteriors from the lattice fall for words the decoder was unsure of.
    posteriors = [logmath.exp(seg.prob) for seg in decoder.seg() if is_word(seg.word)] if text else []
    return {
        'text': text,
        'confidence': round(sum(posteriors) / len(posteriors), 4) if posteriors else 0.0,
        'score': hyp.best_score if hyp is not None else 0,
        'frames': decoder.n_frames(),
        'ms': round((time.time() - started) * 1000, 1),
    }


def main():
    out = claim_stdout()
    stdin = sys.stdin.buffer
    line = stdin.readline()
    if not line:
        return
    workdir = tempfile.mkdtemp(prefix='voicefleet-pocketsphinx-')
    try:
        config, info = build_config(json.loads(line), workdir)
        decoder = Decoder(config)
    except Exception as error:  # noqa: BLE001  (any configuration failure is reported the same way)
        emit(out, {'fatal': '%s: %s' % (type(error).__name__, error)})
        sys.exit(2)
    finally:
        # The decoder has read its files by now.
        shutil.rmtree(workdir, ignore_errors=True)
    logmath = decoder.get_logmath()
    emit(out, dict(ready=True, **info))

    while True:
        header = read_exact(stdin, 4)
        if header is None:
            return
        pcm = read_exact(stdin, int.from_bytes(header, 'little'))
        if pcm is None:
            return
        try:
            emit(out, decode(decoder, logmath, pcm[:len(pcm) - len(pcm) % 2]))
        except Exception as error:  # noqa: BLE001  (one bad utterance must not end the call)
            emit(out, {'error': '%s: %s' % (type(error).__name__, error)})


if __name__ == '__main__':
    main()
