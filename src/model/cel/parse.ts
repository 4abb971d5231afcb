// The CEL subset Amime evaluates (Istio's Telemetry expressions: access-log filters and metric tag
// overrides): literals (strings, integers, true/false), attributes (`request.host`,
// `request.headers['x']`), `string(e)`, the string methods startsWith/endsWith/contains,
// comparisons (== != < <= > >=), `!`, `&&` and `||` (also a default: `request.headers['x'] ||
// 'none'`), `+` on strings and integers, parentheses. Pure: parsing gives an AST or an error with the column at fault.

export type CelNode =
  | { k: "lit"; v: string | number | boolean; col: number }
  | { k: "attr"; name: string; col: number }
  | { k: "index"; name: string; key: string; col: number }
  | { k: "not"; e: CelNode; col: number }
  | { k: "and" | "or" | "add"; a: CelNode; b: CelNode; col: number }
  | { k: "cmp"; op: CmpOp; a: CelNode; b: CelNode; col: number }
  | { k: "string"; e: CelNode; col: number }
  | { k: "method"; name: "startsWith" | "endsWith" | "contains"; target: CelNode; arg: CelNode; col: number };

export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** A parse or type error: `column` is 1-based in the expression. */
export class CelError extends Error {
  readonly code = "CEL_UNSUPPORTED";
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} (column ${column})`);
    this.column = column;
  }
}

type Token = { t: "id" | "str" | "int" | "op" | "end"; v: string; col: number };

const OPS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "(", ")", "[", "]", ".", ","];

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    const col = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: "id", v: m[0], col });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(src.slice(i)) as RegExpExecArray;
      if (/^[0-9]*[.eExX]/.test(src.slice(i + m[0].length, i + m[0].length + 1))) throw new CelError("only integer numbers are supported", col);
      out.push({ t: "int", v: m[0], col });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\") {
          const e = src[j + 1];
          const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
          if (e === undefined || map[e] === undefined) throw new CelError(`unsupported escape \\${e ?? ""}`, j + 1);
          s += map[e];
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new CelError("unterminated string", col);
      out.push({ t: "str", v: s, col });
      i = j + 1;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (op === undefined) throw new CelError(`unexpected ${JSON.stringify(c)}`, col);
      out.push({ t: "op", v: op, col });
      i += op.length;
    }
  }
  out.push({ t: "end", v: "", col: src.length + 1 });
  return out;
}

/** Parses one expression of the subset; throws CelError naming what is not supported and where. */
export function parseCel(src: string): CelNode {
  if (src.trim() === "") throw new CelError("expression is empty", 1);
  const toks = lex(src);
  let p = 0;
  const peek = (): Token => toks[p] as Token;
  const next = (): Token => toks[p++] as Token;
  const isOp = (v: string): boolean => peek().t === "op" && peek().v === v;
  const expect = (v: string): Token => {
    const t = next();
    if (t.t !== "op" || t.v !== v) throw new CelError(`expected ${JSON.stringify(v)}, found ${describe(t)}`, t.col);
    return t;
  };

  /** A left-associative chain of one binary operator. */
  function chain(k: "or" | "and" | "add", op: string, operand: () => CelNode): CelNode {
    let a = operand();
    while (isOp(op)) {
      const col = next().col;
      a = { k, a, b: operand(), col };
    }
    return a;
  }
  const or = (): CelNode => chain("or", "||", and);
  const and = (): CelNode => chain("and", "&&", relation);
  const additive = (): CelNode => chain("add", "+", unary);
  function relation(): CelNode {
    const a = additive();
    const t = peek();
    if (t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) {
      next();
      const b = additive();
      const u = peek();
      if (u.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(u.v)) throw new CelError("chained comparisons are not supported; join them with &&", u.col);
      return { k: "cmp", op: t.v as CmpOp, a, b, col: t.col };
    }
    return a;
  }
  function unary(): CelNode {
    if (isOp("!")) {
      const col = next().col;
      return { k: "not", e: unary(), col };
    }
    return postfix(primary());
  }
  function postfix(n: CelNode): CelNode {
    while (isOp(".")) {
      next();
      const m = next();
      if (m.t !== "id" || !["startsWith", "endsWith", "contains"].includes(m.v) || !isOp("(")) throw new CelError(`unsupported member ${describe(m)} (only startsWith, endsWith and contains calls follow a value)`, m.col);
      next();
      const arg = or();
      expect(")");
      n = { k: "method", name: m.v as "startsWith" | "endsWith" | "contains", target: n, arg, col: m.col };
    }
    return n;
  }
  function primary(): CelNode {
    const t = next();
    if (t.t === "str") return { k: "lit", v: t.v, col: t.col };
    if (t.t === "int") return { k: "lit", v: Number(t.v), col: t.col };
    if (t.t === "op" && t.v === "(") {
      const e = or();
      expect(")");
      return e;
    }
    if (t.t === "id") {
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true", col: t.col };
      if (t.v === "string" && isOp("(")) {
        next();
        const e = or();
        expect(")");
        return { k: "string", e, col: t.col };
      }
      if (isOp("(")) throw new CelError(`unsupported function ${t.v}()`, t.col);
      let name = t.v;
      // A dotted attribute path; a method call after it is handled by postfix.
      while (isOp(".") && toks[p + 1]?.t === "id" && toks[p + 2]?.v !== "(") {
        next();
        name += "." + next().v;
      }
      if (isOp("[")) {
        next();
        const key = next();
        if (key.t !== "str") throw new CelError(`a map key must be a string literal, found ${describe(key)}`, key.col);
        expect("]");
        return { k: "index", name, key: key.v, col: t.col };
      }
      return { k: "attr", name, col: t.col };
    }
    throw new CelError(`unexpected ${describe(t)}`, t.col);
  }

  const e = or();
  const rest = peek();
  if (rest.t !== "end") throw new CelError(`unexpected ${describe(rest)}`, rest.col);
  return e;
}

function describe(t: Token): string {
  if (t.t === "end") return "end of expression";
  if (t.t === "str") return `string ${JSON.stringify(t.v)}`;
  return JSON.stringify(t.v);
}
