/**
 * The Porter stemmer as NLTK's `nltk.stem.porter.PorterStemmer()` computes it in its default
 * mode, NLTK_EXTENSIONS: Porter's 1980 algorithm with Martin Porter's later changes and NLTK's
 * own (a table of irregular forms; words of one or two characters unchanged; "ies"/"ied" on
 * four-letter words keep the "ie"; step 1c turns y into i only after a consonant that is not
 * the first letter; "alli" handled before the rest of step 2; extra "fulli" and "logi" rules;
 * the two-letter vowel-consonant stem counts as *o). Checked word by word against NLTK 3.8
 * (Debian python3-nltk) in test/fixtures/porter-stemmer.json.
 *
 * Python indexes strings by code point, so the word is handled as an array of code points:
 * lengths and positions agree with NLTK's for any text, not only ASCII. Lowercasing is
 * `String.prototype.toLowerCase`, Python's `str.lower` up to Unicode-version differences in
 * non-ASCII letters. ROUGE (rouge.ts) only ever stems ASCII tokens [a-z0-9]+.
 */

type Word = readonly string[];

/** A suffix rule: `suffix` (or a double consonant, "*d") becomes `replacement` when `condition` holds for the stem. */
interface Rule {
  suffix: string;
  replacement: string;
  condition?: (stem: Word) => boolean;
}

const VOWELS: ReadonlySet<string> = new Set(["a", "e", "i", "o", "u"]);

/** NLTK_EXTENSIONS' irregular forms: the word on the left stems to the word on the right. */
const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ["sky", "sky"],
  ["skies", "sky"],
  ["dying", "die"],
  ["lying", "lie"],
  ["tying", "tie"],
  ["news", "news"],
  ["innings", "inning"],
  ["inning", "inning"],
  ["outings", "outing"],
  ["outing", "outing"],
  ["cannings", "canning"],
  ["canning", "canning"],
  ["howe", "howe"],
  ["proceed", "proceed"],
  ["exceed", "exceed"],
  ["succeed", "succeed"],
]);

/** Whether w[i] is a consonant: not a, e, i, o, u, and not a y that follows a consonant. */
function isConsonant(w: Word, i: number): boolean {
  // Walk back over a run of y's: a y is a consonant at the start or after a vowel, so the
  // run alternates starting from what precedes it.
  let j = i;
  while (j >= 0 && w[j] === "y") j--;
  let consonant: boolean;
  if (j < 0) consonant = true; // w[0] is y: a consonant
  else if (j === i) return !VOWELS.has(w[i]);
  else consonant = VOWELS.has(w[j]); // the y after w[j]: consonant iff w[j] is a vowel
  // Each further y flips.
  return (i - j - 1) % 2 === 0 ? consonant : !consonant;
}

/** Porter's m: the number of vowel-to-consonant transitions ("vc" pairs of the c/v sequence). */
function measure(w: Word): number {
  let m = 0;
  let prevVowel = false;
  for (let i = 0; i < w.length; i++) {
    const c = isConsonant(w, i);
    if (c && prevVowel) m++;
    prevVowel = !c;
  }
  return m;
}

function containsVowel(w: Word): boolean {
  for (let i = 0; i < w.length; i++) if (!isConsonant(w, i)) return true;
  return false;
}

/** *d: ends with two equal consonants. */
function endsDoubleConsonant(w: Word): boolean {
  const n = w.length;
  return n >= 2 && w[n - 1] === w[n - 2] && isConsonant(w, n - 1);
}

/** *o: ends consonant-vowel-consonant, the last not w, x or y; or (NLTK) is vowel-consonant. */
function endsCvc(w: Word): boolean {
  const n = w.length;
  if (n >= 3 && isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1) && w[n - 1] !== "w" && w[n - 1] !== "x" && w[n - 1] !== "y") {
    return true;
  }
  return n === 2 && !isConsonant(w, 0) && isConsonant(w, 1);
}

function endsWith(w: Word, suffix: string): boolean {
  const n = w.length;
  const k = suffix.length; // suffixes are ASCII: one code point per UTF-16 unit
  if (k > n) return false;
  for (let i = 0; i < k; i++) if (w[n - k + i] !== suffix[i]) return false;
  return true;
}

/** `w` without its last `k` code points. */
function cut(w: Word, k: number): Word {
  return k === 0 ? w : w.slice(0, w.length - k);
}

function withSuffix(stem: Word, replacement: string): Word {
  return replacement === "" ? stem : [...stem, ...replacement];
}

/**
 * The first rule whose suffix matches decides: its replacement when its condition holds,
 * otherwise the word unchanged (later rules are not tried).
 */
function applyRules(w: Word, rules: readonly Rule[]): Word {
  for (const rule of rules) {
    if (rule.suffix === "*d") {
      if (endsDoubleConsonant(w)) {
        const stem = cut(w, 2);
        return rule.condition === undefined || rule.condition(stem) ? withSuffix(stem, rule.replacement) : w;
      }
      continue;
    }
    if (endsWith(w, rule.suffix)) {
      const stem = cut(w, rule.suffix.length);
      return rule.condition === undefined || rule.condition(stem) ? withSuffix(stem, rule.replacement) : w;
    }
  }
  return w;
}

const positive = (stem: Word): boolean => measure(stem) > 0;
const aboveOne = (stem: Word): boolean => measure(stem) > 1;

function step1a(w: Word): Word {
  if (w.length === 4 && endsWith(w, "ies")) return withSuffix(cut(w, 3), "ie");
  return applyRules(w, [
    { suffix: "sses", replacement: "ss" },
    { suffix: "ies", replacement: "i" },
    { suffix: "ss", replacement: "ss" },
    { suffix: "s", replacement: "" },
  ]);
}

function step1b(w: Word): Word {
  if (endsWith(w, "ied")) return withSuffix(cut(w, 3), w.length === 4 ? "ie" : "i");
  if (endsWith(w, "eed")) {
    const stem = cut(w, 3);
    return measure(stem) > 0 ? withSuffix(stem, "ee") : w;
  }
  let stem: Word | undefined;
  for (const suffix of ["ed", "ing"]) {
    if (endsWith(w, suffix)) {
      const s = cut(w, suffix.length);
      if (containsVowel(s)) {
        stem = s;
        break;
      }
    }
  }
  if (stem === undefined) return w;
  const last = stem[stem.length - 1];
  return applyRules(stem, [
    { suffix: "at", replacement: "ate" },
    { suffix: "bl", replacement: "ble" },
    { suffix: "iz", replacement: "ize" },
    // A double consonant other than l, s or z loses one letter.
    { suffix: "*d", replacement: last, condition: () => last !== "l" && last !== "s" && last !== "z" },
    { suffix: "", replacement: "e", condition: (s) => measure(s) === 1 && endsCvc(s) },
  ]);
}

function step1c(w: Word): Word {
  return applyRules(w, [{ suffix: "y", replacement: "i", condition: (s) => s.length > 1 && isConsonant(s, s.length - 1) }]);
}

/** Rules that share one condition, from [suffix, replacement] pairs. */
function rules(pairs: readonly (readonly [string, string])[], condition: (stem: Word) => boolean): Rule[] {
  return pairs.map(([suffix, replacement]) => ({ suffix, replacement, condition }));
}

const STEP2: readonly Rule[] = [
  ...rules(
    [
      ["ational", "ate"], ["tional", "tion"], ["enci", "ence"], ["anci", "ance"], ["izer", "ize"], ["bli", "ble"],
      ["alli", "al"], ["entli", "ent"], ["eli", "e"], ["ousli", "ous"], ["ization", "ize"], ["ation", "ate"],
      ["ator", "ate"], ["alism", "al"], ["iveness", "ive"], ["fulness", "ful"], ["ousness", "ous"], ["aliti", "al"],
      ["iviti", "ive"], ["biliti", "ble"], ["fulli", "ful"],
    ],
    positive,
  ),
  // The measure is taken with the "l" of "logi" kept on the stem (so "geologi" -> "geolog").
  { suffix: "logi", replacement: "log", condition: (stem) => positive([...stem, "l"]) },
];

const STEP3: readonly Rule[] = rules(
  [["icate", "ic"], ["ative", ""], ["alize", "al"], ["iciti", "ic"], ["ical", "ic"], ["ful", ""], ["ness", ""]],
  positive,
);

const STEP4: readonly Rule[] = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize"].map((suffix) => ({
  suffix,
  replacement: "",
  // (m > 1 and (*S or *T)) ION; the others m > 1.
  condition: suffix === "ion" ? (stem: Word) => measure(stem) > 1 && (stem[stem.length - 1] === "s" || stem[stem.length - 1] === "t") : aboveOne,
}));

function step2(w: Word): Word {
  if (endsWith(w, "alli") && positive(cut(w, 4))) return step2(withSuffix(cut(w, 4), "al"));
  return applyRules(w, STEP2);
}

const step3 = (w: Word): Word => applyRules(w, STEP3);
const step4 = (w: Word): Word => applyRules(w, STEP4);

/** Step 5a: a final e goes when m > 1, or when m = 1 and the stem does not end cvc (both tried). */
function step5a(w: Word): Word {
  if (!endsWith(w, "e")) return w;
  const stem = cut(w, 1);
  const m = measure(stem);
  if (m > 1) return stem;
  if (m === 1 && !endsCvc(stem)) return stem;
  return w;
}

/** Step 5b: a final "ll" becomes "l" when m > 1, the measure taken with one l kept. */
const STEP5B: readonly Rule[] = [{ suffix: "ll", replacement: "l", condition: (stem) => measure([...stem, "l"]) > 1 }];
const step5b = (w: Word): Word => applyRules(w, STEP5B);

/**
 * Stem one word as `PorterStemmer().stem(word)` does in NLTK's default mode: lowercased first
 * (`toLowercase`, NLTK's default), irregular forms from the table, words of at most two code
 * points returned lowercased, otherwise steps 1a-5b.
 */
export function porterStem(word: string, toLowercase = true): string {
  if (typeof word !== "string") throw new TypeError(`porterStem: word is not a string (${word === null ? "null" : typeof word})`);
  const lower = toLowercase ? word.toLowerCase() : word;
  // NLTK looks the word up as given and answers the entry of the lowercased word; the
  // table's words are lowercase, so both are the same word when the lookup succeeds.
  const irregular = IRREGULAR.get(word);
  if (irregular !== undefined) return irregular;
  if ([...word].length <= 2) return lower;
  let w: Word = [...lower];
  w = step1a(w);
  w = step1b(w);
  w = step1c(w);
  w = step2(w);
  w = step3(w);
  w = step4(w);
  w = step5a(w);
  w = step5b(w);
  return w.join("");
}
