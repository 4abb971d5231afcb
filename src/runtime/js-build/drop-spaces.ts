// Spaces out of the bundle's files (issue 15). V8 keeps each script's source for the process's life
// (lazy compilation), and esbuild prints the bundle indented, with spaces around operators and after
// commas: ≈ 120,000 of its 650,000 characters are spaces that separate no tokens. They go; every
// newline stays, so a stack trace without source maps still names the bundle's line of the code that
// threw (only its column moves) and that line still reads as code (`if(x){return a+b}`), and the
// chunk's source map is shifted with it (shift-mappings.ts), so traces under `--enable-source-maps`
// name the same `.ts` line and column as before. No identifier is renamed.
//
// A space stays where the tokens on its sides would otherwise read as one (`return x`, `a - -b`,
// `a / /re/`, `1 .toString()`). Strings, template literals' text, regular expressions and comments are
// copied as they are (js-lex.ts). bundle.ts checks each file against esbuild's parse of it.
import { isWordChar, lineEnd, regexEnd, regexMayStart, stringEnd, templateEnd } from "./js-lex.ts";

// Two punctuators that would read as another token (`++`, a comment) or as an HTML-like comment.
const JOINED = new Set(["++", "--", "//", "/*", "*/", "<!", "->"]);
const isWord = (c: string): boolean => isWordChar(c) || c === "#" || c === "\\";

/** Whether the tokens ending in `before` and starting with `after` need a space between them. */
function needsSpace(before: string, after: string): boolean {
  if (isWord(before)) return isWord(after) || after === ".";
  if (before === ".") return /\d/.test(after);
  return JOINED.has(before + after);
}

/** JavaScript module source → the same module without the spaces that separate no tokens, every line in place. */
export function dropSpaces(code: string): string {
  const out: string[] = [];
  // The last character written on this line ("" at its start: indentation goes).
  let before = "";
  const emit = (s: string): void => {
    if (s.length === 0) return;
    out.push(s);
    const nl = s.lastIndexOf("\n");
    before = nl === s.length - 1 ? "" : s[s.length - 1]!;
  };
  let i = 0;
  // What `}` closes: a block or object ("{"), or the code of a template literal's `${` ("${").
  const braces: string[] = [];
  // The last token of code, for the regular expression question: a punctuator or a word.
  let lastToken = "";
  const n = code.length;
  if (code.startsWith("#!")) {
    i = lineEnd(code, 0);
    emit(code.slice(0, i));
  }
  while (i < n) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === " " || c === "\t") {
      let end = i + 1;
      while (end < n && (code[end] === " " || code[end] === "\t")) end++;
      const after = code[end] ?? "\n";
      if (before !== "" && after !== "\n" && after !== "\r" && needsSpace(before, after)) emit(" ");
      i = end;
      continue;
    }
    let end: number;
    if (c === "/" && next === "/") end = lineEnd(code, i);
    else if (c === "/" && next === "*") {
      const close = code.indexOf("*/", i + 2);
      end = close === -1 ? n : close + 2;
    } else if (c === "'" || c === '"') {
      end = stringEnd(code, i, c);
      lastToken = c;
    } else if (c === "`") {
      i = copyTemplate(i + 1);
      continue;
    } else if (c === "/" && regexMayStart(lastToken)) {
      end = regexEnd(code, i);
      lastToken = "/re/";
    } else if (c === "}" && braces.pop() === "${") {
      // Back in the template literal whose `${` this closes.
      i = copyTemplate(i + 1);
      continue;
    } else if (isWordChar(c)) {
      end = i + 1;
      while (end < n && isWordChar(code[end]!)) end++;
      lastToken = code.slice(i, end);
    } else {
      if (c === "{") braces.push("{");
      end = i + 1;
      if (!/\s/.test(c)) lastToken = c;
    }
    emit(code.slice(i, end));
    i = end;
  }
  return out.join("");

  /** Copy a template literal's text from `from` (inside it) up to its end or to the `${` that opens code. */
  function copyTemplate(from: number): number {
    const end = templateEnd(code, from, braces);
    emit(code.slice(from - 1, end));
    lastToken = braces.at(-1) === "${" && code.startsWith("${", end - 2) ? "{" : "`";
    return end;
  }
}
