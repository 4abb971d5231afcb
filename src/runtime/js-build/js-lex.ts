// What blank-comments.ts and drop-spaces.ts need of a JavaScript lexer: where a string, a template
// literal's text or a regular expression literal ends, and whether a `/` starts a regular expression.
// Whether a `/` starts a regular expression or divides is decided by the token before it, as a
// JavaScript lexer does; the one guess (after `)` and `}` it divides) is checked against swc's parse
// of every file of src/ in the unit tests, and the bundle's against esbuild's (drop-spaces.ts).

// After these words a `/` starts a regular expression (`return /x/.test(s)`), after any other word it divides.
const REGEX_AFTER_WORD = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

export const isWordChar = (c: string): boolean => /[\w$]/.test(c) || (c >= "\u0080" && !/\s/.test(c));

/** Whether a `/` after `lastToken` (a punctuator, a word, or "/re/" for a regular expression) starts a regular expression. */
export function regexMayStart(lastToken: string): boolean {
  if (lastToken === "") return true;
  if (isWordChar(lastToken[0]!)) return REGEX_AFTER_WORD.has(lastToken);
  return !(lastToken === ")" || lastToken === "]" || lastToken === "}" || lastToken === "`" || lastToken === "'" || lastToken === '"' || lastToken === "/re/");
}

export function lineEnd(code: string, from: number): number {
  const nl = code.indexOf("\n", from);
  return nl === -1 ? code.length : nl;
}

/** Index just past the string literal opened by `quote` at `start`. */
export function stringEnd(code: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < code.length && code[i] !== quote) i += code[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** From inside a template literal at `from`: index just past its closing backtick, or past the `${` that opens code (pushed on `braces`). */
export function templateEnd(code: string, from: number, braces: string[]): number {
  let i = from;
  while (i < code.length) {
    const c = code[i];
    if (c === "\\") i += 2;
    else if (c === "`") return i + 1;
    else if (c === "$" && code[i + 1] === "{") {
      braces.push("${");
      return i + 2;
    } else i++;
  }
  return i;
}

/** Index just past the regular expression literal (with its flags) that starts at `start`. */
export function regexEnd(code: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < code.length) {
    const c = code[i];
    if (c === "\\") i += 2;
    else if (c === "\n") return i;
    else {
      if (c === "[") inClass = true;
      else if (c === "]") inClass = false;
      else if (c === "/" && !inClass) break;
      i++;
    }
  }
  i++;
  while (i < code.length && isWordChar(code[i]!)) i++;
  return i;
}
