// RE2-style regular expressions (what Istio and Envoy use) checked and compiled with JS RegExp.
//
// Istio validates regexes with Go's regexp (RE2 syntax) and Envoy runs them with RE2. JS RegExp
// differs both ways, so we translate instead of compiling the text as is:
//  - RE2 constructs JS would accept but RE2 rejects are refused first, with RE2's wording:
//    backreferences (\1, \k<name>), lookahead/lookbehind ((?=, (?!, (?<=, (?<!), atomic groups
//    ((?>), possessive quantifiers (a*+, a++, a?+, a{2}+) and \Z.
//  - RE2 syntax JS lacks is rewritten: (?P<name>…) → (?<name>…), leading (?i)/(?s)/(?m) → flags,
//    \A and \z → input anchors, \Q…\E → literal, [[:alpha:]] → class ranges, \pL → \p{L},
//    \x{1F600} → \u{1F600}, octal \012, \a, escaped punctuation such as \: or \/ (an error under
//    the JS 'u' flag) and a lone `{`/`}`/`]`, which RE2 reads as literals.
// The result is compiled with the 'u' flag (Unicode code points, like RE2's UTF-8 mode).
// Istio also caps a regex at 1024 characters (its stand-in for RE2's program size limit).

export const MAX_REGEX_LENGTH = 1024;

export const RE2_HINT = "Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)";

export class Re2SyntaxError extends Error {
  readonly code = "AMIME_RE2_SYNTAX";
  constructor(message: string) {
    super(message);
    this.name = "Re2SyntaxError";
  }
}

export interface TranslatedRegex {
  source: string;
  flags: string;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\x00-\\x7F", blank: "\\t ", cntrl: "\\x00-\\x1F\\x7F", digit: "0-9",
  graph: "!-~", lower: "a-z", print: " -~", punct: "!-\\/:-@\\[-`{-~", space: "\\t\\n\\v\\f\\r ", upper: "A-Z",
  word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
};

/** Characters JS accepts after a backslash under the 'u' flag as a literal. */
const JS_SYNTAX = new Set("^$\\.*+?()[]{}|/".split(""));
/** Escapes that mean the same in RE2 and JS. */
const SAME_ESCAPES = new Set("dDsSwWbBtnrfv".split(""));

function hex(ch: string): string {
  return `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`;
}

function literal(ch: string): string {
  return /[A-Za-z0-9_]/.test(ch) || ch.codePointAt(0)! > 0x7f ? ch : hex(ch);
}

/** Translate RE2 syntax into JS RegExp syntax; throws Re2SyntaxError on what RE2 would reject. */
export function translateRe2(pattern: string): TranslatedRegex {
  let flags = "";
  let src = pattern;
  // A leading global flag group, e.g. (?i) or (?is).
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    const f = lead[1] ?? "";
    if (f.includes("U")) throw new Re2SyntaxError("ungreedy flag (?U) is not supported by Amime");
    flags = [...new Set(f.split(""))].join("");
    src = src.slice(lead[0].length);
  }
  let out = "";
  let inClass = false;
  let i = 0;
  const bad = (what: string): never => {
    throw new Re2SyntaxError(what);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) bad("trailing backslash at end of expression");
      if (n === "Q") {
        const end = src.indexOf("\\E", i + 2);
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        out += [...lit].map(literal).join("");
        i = end < 0 ? src.length : end + 2;
        continue;
      }
      if (n === "E") {
        i += 2; // a stray \E is ignored by RE2
        continue;
      }
      if (/[1-9]/.test(n!) && !/[0-7]/.test(src[i + 2] ?? "")) bad(`invalid escape sequence: \`\\${n}\``);
      if (/[0-7]/.test(n!)) {
        const m = /^[0-7]{1,3}/.exec(src.slice(i + 1))![0];
        out += hex(String.fromCodePoint(parseInt(m, 8)));
        i += 1 + m.length;
        continue;
      }
      if (n === "k" || n === "Z" || n === "G" || n === "K" || n === "R" || n === "X" || n === "h" || n === "e") bad(`invalid escape sequence: \`\\${n}\``);
      if (n === "A" && !inClass) {
        out += "(?<![\\s\\S])";
        i += 2;
        continue;
      }
      if (n === "z" && !inClass) {
        out += "(?![\\s\\S])";
        i += 2;
        continue;
      }
      if (n === "a") {
        out += "\\x07";
        i += 2;
        continue;
      }
      if (n === "x") {
        const braced = /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(i + 2));
        if (braced) {
          out += `\\u{${braced[1]}}`;
          i += 2 + braced[0].length;
          continue;
        }
        const two = /^[0-9A-Fa-f]{2}/.exec(src.slice(i + 2));
        if (!two) bad(`invalid escape sequence: \`\\x${src.slice(i + 2, i + 4)}\``);
        out += `\\x${two![0]}`;
        i += 4;
        continue;
      }
      if (n === "p" || n === "P") {
        if (src[i + 2] === "{") {
          const end = src.indexOf("}", i + 3);
          if (end < 0) bad(`invalid character class range: \`${src.slice(i)}\``);
          out += src.slice(i, end + 1);
          i = end + 1;
        } else {
          out += `\\${n}{${src[i + 2] ?? ""}}`;
          i += 3;
        }
        continue;
      }
      if (SAME_ESCAPES.has(n!)) {
        out += `\\${n}`;
        i += 2;
        continue;
      }
      if (/[A-Za-z0-9]/.test(n!)) bad(`invalid escape sequence: \`\\${n}\``);
      // Escaped punctuation or other literal.
      out += JS_SYNTAX.has(n!) || (inClass && n === "-") ? `\\${n}` : literal(n!);
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "[" && src[i + 1] === ":") {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
        if (m) {
          const cls = POSIX_CLASSES[m[2] ?? ""];
          if (cls === undefined) bad(`invalid character class range: \`${m[0]}\``);
          if (m[1]) bad(`negated POSIX class ${m[0]} is not supported by Amime`);
          out += cls;
          i += m[0].length;
          continue;
        }
      }
      if (c === "]") inClass = false;
      out += c === "[" ? "\\[" : c === "/" ? "\\/" : c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += "[";
      i++;
      if (src[i] === "^") {
        out += "^";
        i++;
      }
      // A `]` first in a class is a literal in RE2.
      if (src[i] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(" && src[i + 1] === "?") {
      const rest = src.slice(i + 2);
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 4;
        continue;
      }
      if (rest.startsWith("P=") || rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!") || rest.startsWith(">") || rest.startsWith("(") || rest.startsWith("#")) {
        bad(`invalid or unsupported Perl syntax: \`(?${rest.slice(0, rest.startsWith("<") ? 2 : 1)}\``);
      }
      const mod = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (mod) {
        if (`${mod[1]}${mod[2] ?? ""}`.includes("U")) bad("ungreedy flag (?U) is not supported by Amime");
        if (mod[3] === ")") bad(`inline flags ${"(?" + rest.slice(0, mod[0].length)} are only supported by Amime at the start of the expression; use (?flags:…) instead`);
        out += `(?${mod[0]}`;
        i += 2 + mod[0].length;
        continue;
      }
      if (!rest.startsWith("<") && !rest.startsWith(":")) bad(`invalid or unsupported Perl syntax: \`(?${rest.slice(0, 1)}\``);
    }
    if (c === "{") {
      const q = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (q) {
        const lo = Number(q[1]);
        const hi = q[3] ? Number(q[3]) : lo;
        if (lo > 1000 || hi > 1000 || hi < lo) bad(`invalid repeat count: \`${q[0]}\``);
        out += q[0];
        i += q[0].length;
        if (src[i] === "+") bad(`invalid nested repetition operator: \`${q[0]}+\``);
        continue;
      }
      out += "\\{";
      i++;
      continue;
    }
    if (c === "}" || c === "]" || c === "/") {
      out += `\\${c}`;
      i++;
      continue;
    }
    if (c === "*" || c === "+" || c === "?") {
      const n = src[i + 1];
      if (n === "+" || n === "*") bad(`invalid nested repetition operator: \`${c}${n}\``);
      if (n === "?") {
        out += `${c}?`;
        i += 2;
        continue;
      }
    }
    out += c;
    i++;
  }
  if (inClass) bad(`missing closing ]: \`${src.slice(src.lastIndexOf("["))}\``);
  return { source: out, flags };
}

/** Why `pattern` is not a valid RE2 regex, or null. The text does not include the field name. */
export function re2Error(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) return `regex is too large, max length allowed is ${MAX_REGEX_LENGTH}`;
  try {
    const t = translateRe2(pattern);
    new RegExp(t.source, `${t.flags}u`);
    return null;
  } catch (e) {
    const msg = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    return `error parsing regexp: ${msg}: \`${pattern}\``;
  }
}

/** Istio's text for a bad regex in `where` (e.g. "uri"), or null when it is fine. */
export function regexFieldError(pattern: string, where: string): string | null {
  const err = re2Error(pattern);
  if (!err) return null;
  if (err.startsWith("regex is too large")) return `"${where}": ${err}`;
  return `"${where}": ${err}; ${RE2_HINT}`;
}

/**
 * Compile an RE2 pattern for matching a whole value (Envoy's safe_regex semantics: the entire
 * string must match). Throws Re2SyntaxError when invalid.
 */
export function compileRe2(pattern: string, opts: { wholeValue?: boolean } = { wholeValue: true }): RegExp {
  const err = re2Error(pattern);
  if (err) throw new Re2SyntaxError(err);
  const t = translateRe2(pattern);
  const source = opts.wholeValue === false ? t.source : `^(?:${t.source})$`;
  return new RegExp(source, `${t.flags}u`);
}
