#!/usr/bin/env python3
"""Generate test/fixtures/porter-stemmer.json: words and their NLTK Porter stems.

The reference is `nltk.stem.porter.PorterStemmer()` in its default mode
(NLTK_EXTENSIONS), the stemmer rouge-score uses with use_stemmer=True; its
`stem(word)` is called with the default `to_lowercase=True`.

Words:
  - every 25th word of /usr/share/dict/words (Debian wamerican), which brings
    capitals, possessives ("Aaron's") and a few non-ASCII words;
  - hand-picked cases: Porter's paper examples, NLTK's irregular forms, the
    rules NLTK changes (ies/ied on 4 letters, y after a consonant, alli, fulli,
    logi, two-letter cvc), runs of y, short words, digits, non-ASCII;
  - seeded synthetic words: random stems with the suffixes of every step, so
    each rule fires with its condition both true and false.

Run from the repository root (Debian: apt-get install python3-nltk wamerican):
    /usr/bin/python3 scripts/make_stemmer_fixtures.py
The TypeScript tests only read the committed JSON; they never run Python.
The output is deterministic: rerunning gives a byte-identical file.
"""

import json
import os
import random

import nltk
from nltk.stem.porter import PorterStemmer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "porter-stemmer.json")
DICT = "/usr/share/dict/words"
DICT_STRIDE = 25
SYNTHETIC = 1500
MAX_BYTES = 200_000

HAND_PICKED = [
    # Porter (1980), the paper's examples of each step
    "caresses", "ponies", "ties", "caress", "cats", "feed", "agreed", "plastered", "bled",
    "motoring", "sing", "conflated", "troubled", "sized", "hopping", "tanned", "falling",
    "hissing", "fizzed", "failing", "filing", "happy", "sky", "relational", "conditional",
    "rational", "valenci", "hesitanci", "digitizer", "conformabli", "radicalli", "differentli",
    "vileli", "analogousli", "vietnamization", "predication", "operator", "feudalism",
    "decisiveness", "hopefulness", "callousness", "formaliti", "sensitiviti", "sensibiliti",
    "triplicate", "formative", "formalize", "electriciti", "electrical", "hopeful", "goodness",
    "revival", "allowance", "inference", "airliner", "gyroscopic", "adjustable", "defensible",
    "irritant", "replacement", "adjustment", "dependent", "adoption", "homologou", "communism",
    "activate", "angulariti", "homologous", "effective", "bowdlerize", "probate", "rate",
    "cease", "controll", "roll", "generalizations", "oscillators",
    # NLTK_EXTENSIONS: irregular forms and the rules it changes
    "skies", "dying", "lying", "tying", "news", "innings", "inning", "outings", "outing",
    "cannings", "canning", "howe", "proceed", "exceed", "succeed", "proceeding", "exceeding",
    "dies", "flies", "lies", "died", "spied", "tied", "cried", "enjoy", "enjoyment", "spy",
    "fly", "try", "say", "by", "y", "yy", "yyy", "yyyy", "yayy", "syzygy", "toy", "boyish",
    "generically", "logically", "formally", "hopefully", "archaeology", "geology", "theology",
    "biology", "philology", "analogies", "radically", "finally", "totally", "fatally", "ally",
    "rally", "tally", "crying", "trying", "frying", "aged", "oed", "bed", "eed", "ied", "ies",
    "ing", "ings", "sing", "ring", "string", "ed", "s", "ss", "is", "as", "us", "a", "i",
    "at", "on", "ox", "ow", "ay", "abs", "bus", "gas", "yes",
    # Capitals, digits, possessives, punctuation, non-ASCII (NLTK lowercases first)
    "Running", "CARESSES", "McDonald's", "1990s", "2nd", "3rds", "a1b2c3ing", "x86",
    "ångström", "Ångströms", "éclairs", "naïvely", "façades", "İstanbul", "straße", "résumés",
    "данные", "𝔸ccounting", "😀😀", "abc😀ing",
]

# Suffixes that the steps look for, and stems that make their conditions differ.
SUFFIXES = [
    "s", "ss", "sses", "ies", "ied", "eed", "ed", "ing", "y", "ational", "tional", "enci",
    "anci", "izer", "bli", "alli", "entli", "eli", "ousli", "ization", "ation", "ator",
    "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "fulli", "logi",
    "icate", "ative", "alize", "iciti", "ical", "ful", "ness", "al", "ance", "ence", "er",
    "ic", "able", "ible", "ant", "ement", "ment", "ent", "sion", "tion", "ion", "ou", "ism",
    "ate", "iti", "ous", "ive", "ize", "e", "ll", "at", "bl", "iz", "ally", "ingly", "edly",
    "ements", "ations", "izations", "ies", "ying", "yed",
]
CONSONANTS = "bcdfghjklmnpqrstvwxz"
VOWELS = "aeiouy"


def synthetic_words(rng):
    words = []
    for _ in range(SYNTHETIC):
        n = rng.randint(1, 4)
        stem = ""
        for _ in range(n):
            stem += rng.choice(CONSONANTS) * rng.choice([1, 1, 1, 2]) if rng.random() < 0.8 else ""
            stem += rng.choice(VOWELS)
        if rng.random() < 0.5:
            stem += rng.choice(CONSONANTS) * rng.choice([1, 1, 2])
        suffix = rng.choice(SUFFIXES)
        if rng.random() < 0.3:
            suffix += rng.choice(SUFFIXES)
        words.append(stem + suffix)
    return words


def main():
    stemmer = PorterStemmer()
    assert stemmer.mode == PorterStemmer.NLTK_EXTENSIONS
    with open(DICT, encoding="utf-8") as f:
        dictionary = [w.rstrip("\n") for w in f]
    words = dictionary[::DICT_STRIDE] + HAND_PICKED + synthetic_words(random.Random(20240611))
    seen = set()
    cases = []
    for w in words:
        if w in seen:
            continue
        seen.add(w)
        cases.append([w, stemmer.stem(w)])
    doc = {
        "source": "nltk.stem.porter.PorterStemmer() (mode NLTK_EXTENSIONS), stem(word) with to_lowercase=True",
        "nltk_version": nltk.__version__,
        "generator": "scripts/make_stemmer_fixtures.py",
        "cases": cases,
    }
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    # One case per line keeps diffs readable.
    text = text.replace('],["', '],\n["')
    data = (text + "\n").encode("utf-8")
    assert len(data) < MAX_BYTES, f"fixture is {len(data)} bytes, over {MAX_BYTES}"
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {OUT}: {len(cases)} words, {len(data)} bytes, NLTK {nltk.__version__}")


if __name__ == "__main__":
    main()
