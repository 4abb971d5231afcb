// Comments out of the built JavaScript tree (issue 15). V8 keeps every module's source text on the
// heap for as long as the process runs (lazy compilation and Function.prototype.toString read it), and
// a file holding one character outside Latin-1 (`≈`, `→`, `—`: nearly always in a comment) is kept as
// a two-byte string. A Bookinfo sidecar loads ≈ 200 of our modules: 1.0 M characters, 1.55 MB of heap,
// of which ≈ 0.24 M characters are comments (docs/performance.md, "Session 9: the sidecar's start peak").
//
// Lines and columns of code stay where they are, so stack traces still point into the `.ts` sources:
// a line comment goes with the whitespace before it (nothing follows it on its line); a block comment
// keeps its newlines, and when code follows it on its last line, spaces hold that code's column.
// Whitespace at the end of a line goes too (type stripping leaves lines of blanks), and Unicode spaces
// (type stripping blanks a type that held a non-ASCII character with U+2002) become ASCII ones, one for
// one. Strings, template literals (and the code of their `${…}`) and regular expression literals are
// copied as they are (js-lex.ts).

import { isWordChar, lineEnd, regexEnd, regexMayStart, stringEnd, templateEnd } from "./js-lex.ts";

/** JavaScript module source → the same module without comments, every line and column of code in place. */
export function blankComments(code: string): string {
  // The output in pieces (joined once at the end): trimming the end of one long string would flatten it each time.
  const out: string[] = [];
  let i = 0;
  // What `}` closes: a block or object ("{"), or the code of a template literal's `${` ("${").
  const braces: string[] = [];
  // The last token of code, for the regular expression question: a punctuator or a word.
  let lastToken = "";
  const n = code.length;
  // A shebang line stays as it is.
  if (code.startsWith("#!")) {
    i = lineEnd(code, 0);
    out.push(code.slice(0, i));
  }
  while (i < n) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === "/" && next === "/") {
      i = lineEnd(code, i);
      trimLineEnd(out);
      continue;
    }
    if (c === "/" && next === "*") {
      const close = code.indexOf("*/", i + 2);
      const end = close === -1 ? n : close + 2;
      const comment = code.slice(i, end);
      const newlines = comment.split("\n").length - 1;
      i = end;
      const codeFollows = !/^[ \t]*(\r?\n|$)/.test(code.slice(i, lineEnd(code, i) + 1));
      if (newlines === 0) {
        if (codeFollows) out.push(" ".repeat(comment.length));
        else trimLineEnd(out);
      } else {
        trimLineEnd(out);
        out.push("\n".repeat(newlines));
        if (codeFollows) out.push(" ".repeat(comment.length - comment.lastIndexOf("\n") - 1));
      }
      continue;
    }
    if (c === "'" || c === '"') {
      const end = stringEnd(code, i, c);
      out.push(code.slice(i, end));
      i = end;
      lastToken = c;
      continue;
    }
    if (c === "`") {
      i = copyTemplate(i + 1);
      continue;
    }
    if (c === "/" && regexMayStart(lastToken)) {
      const end = regexEnd(code, i);
      out.push(code.slice(i, end));
      i = end;
      lastToken = "/re/";
      continue;
    }
    if (c === "{") braces.push("{");
    // Back in the template literal whose `${` this closes.
    if (c === "}" && braces.pop() === "${") {
      i = copyTemplate(i + 1);
      continue;
    }
    if (isWordChar(c)) {
      let end = i + 1;
      while (end < n && isWordChar(code[end]!)) end++;
      lastToken = code.slice(i, end);
      out.push(lastToken);
      i = end;
      continue;
    }
    i++;
    if (c === "\n") {
      trimLineEnd(out);
      out.push(c);
    } else if (/\s/.test(c)) {
      out.push(c === "\t" || c === "\r" ? c : " ");
    } else {
      out.push(c);
      lastToken = c;
    }
  }
  return out.join("");

  /** Copy a template literal's text from `from` (inside it) up to its end or to the `${` that opens code. */
  function copyTemplate(from: number): number {
    const end = templateEnd(code, from, braces);
    out.push(code.slice(from - 1, end));
    lastToken = braces.at(-1) === "${" && code.startsWith("${", end - 2) ? "{" : "`";
    return end;
  }
}

/** Drop the spaces and tabs at the end of the output so far (code's whitespace: a string or template ends with its quote). */
function trimLineEnd(out: string[]): void {
  while (out.length > 0) {
    const last = out[out.length - 1]!;
    const trimmed = last.replace(/[ \t]+$/, "");
    if (trimmed.length > 0) {
      out[out.length - 1] = trimmed;
      return;
    }
    out.pop();
  }
}
