// Compiles a parsed expression of the CEL subset into a closure over CelAttributes, once per
// config: types are checked here (comparisons of one type, booleans for `!` and `&&`), so an
// expression that cannot work is refused with the column at fault instead of failing per request.
// Evaluation follows CEL's error absorption: an absent attribute makes a comparison absent, and
// `false && absent` is false, `true || absent` true. For `||` on strings, an absent or empty left
// side gives the right side (Istio's `request.headers['x'] || 'unknown'` default).
import { ATTRIBUTES, HEADER_MAP, type CelAttributes, type CelType } from "./attributes.ts";
import { CelError, parseCel, type CelNode } from "./parse.ts";

export type CelValue = string | number | boolean | undefined;
export type CelFn = (a: CelAttributes) => CelValue;

export interface CompiledCel {
  readonly eval: CelFn;
  readonly type: CelType;
  /** True when the value varies per request (headers, path…), not only with a metric's labels. */
  readonly perRequest: boolean;
  readonly source: string;
}

interface Typed {
  fn: CelFn;
  type: CelType;
  perRequest: boolean;
}

/** Parses and type-checks; throws CelError. `want` is the type the caller needs (a filter: bool). */
export function compileCel(source: string, want?: CelType): CompiledCel {
  const t = build(parseCel(source));
  if (want !== undefined && t.type !== want) throw new CelError(`the expression gives a ${t.type}, a ${want} is needed`, 1);
  return { eval: t.fn, type: t.type, perRequest: t.perRequest, source };
}

/** The problem with an expression ("" when it compiles), for validation messages. */
export function celProblem(source: string, want?: CelType): string {
  try {
    compileCel(source, want);
    return "";
  } catch (e) {
    if (e instanceof CelError) return e.message;
    throw e;
  }
}

/** A value as a label or tag: absent → `unknown` (what Istio's stats plugin writes when an expression fails). */
export function celText(v: CelValue): string {
  return v === undefined ? "unknown" : typeof v === "string" ? v : String(v);
}

function build(n: CelNode): Typed {
  switch (n.k) {
    case "lit": {
      const v = n.v;
      return { fn: () => v, type: typeof v === "string" ? "string" : typeof v === "number" ? "int" : "bool", perRequest: false };
    }
    case "attr": {
      const info = ATTRIBUTES.get(n.name);
      if (info === undefined) {
        const hint = n.name === HEADER_MAP ? ` (write ${HEADER_MAP}['name'])` : "";
        throw new CelError(`unknown attribute ${n.name}${hint}; known: ${[...ATTRIBUTES.keys()].join(", ")}, ${HEADER_MAP}['name']`, n.col);
      }
      const id = info.id;
      return { fn: (a) => a.get(id), type: info.type, perRequest: info.scope === "request" };
    }
    case "index": {
      if (n.name !== HEADER_MAP) throw new CelError(`unknown map attribute ${n.name} (only ${HEADER_MAP}['name'] is supported)`, n.col);
      const key = n.key.toLowerCase();
      return { fn: (a) => a.header(key), type: "string", perRequest: true };
    }
    case "not": {
      const e = want(build(n.e), "bool", n.col, "!");
      return { fn: (a) => { const v = e.fn(a); return typeof v === "boolean" ? !v : undefined; }, type: "bool", perRequest: e.perRequest };
    }
    case "and": {
      const x = want(build(n.a), "bool", n.col, "&&");
      const y = want(build(n.b), "bool", n.col, "&&");
      return {
        fn: (a) => {
          const l = x.fn(a);
          if (l === false) return false;
          const r = y.fn(a);
          if (r === false) return false;
          return l === true && r === true ? true : undefined;
        },
        type: "bool",
        perRequest: x.perRequest || y.perRequest,
      };
    }
    case "or": {
      const x = build(n.a);
      const y = build(n.b);
      if (x.type !== y.type) throw new CelError(`|| joins a ${x.type} and a ${y.type}; both sides must be booleans, or both strings (a default)`, n.col);
      if (x.type === "int") throw new CelError("|| does not apply to integers", n.col);
      return {
        fn: (a) => {
          const l = x.fn(a);
          if (l === true || (typeof l === "string" && l !== "")) return l;
          const r = y.fn(a);
          return l === undefined && r === false ? undefined : r;
        },
        type: x.type,
        perRequest: x.perRequest || y.perRequest,
      };
    }
    case "cmp": {
      const x = build(n.a);
      const y = build(n.b);
      if (x.type !== y.type) throw new CelError(`${n.op} compares a ${x.type} with a ${y.type}`, n.col);
      if (x.type === "bool" && n.op !== "==" && n.op !== "!=") throw new CelError(`${n.op} does not apply to booleans`, n.col);
      const f = x.fn;
      const g = y.fn;
      const op = n.op;
      return {
        fn: (a) => {
          const l = f(a);
          const r = g(a);
          if (l === undefined || r === undefined) return undefined;
          switch (op) {
            case "==": return l === r;
            case "!=": return l !== r;
            case "<": return l < r;
            case "<=": return l <= r;
            case ">": return l > r;
            default: return l >= r;
          }
        },
        type: "bool",
        perRequest: x.perRequest || y.perRequest,
      };
    }
    case "add": {
      const x = build(n.a);
      const y = build(n.b);
      if (x.type !== y.type || x.type === "bool") throw new CelError(`+ joins two strings or two integers, not a ${x.type} and a ${y.type}`, n.col);
      const f = x.fn;
      const g = y.fn;
      return {
        fn: (a) => {
          const l = f(a);
          const r = g(a);
          return l === undefined || r === undefined ? undefined : typeof l === "number" ? l + (r as number) : `${l as string}${r as string}`;
        },
        type: x.type,
        perRequest: x.perRequest || y.perRequest,
      };
    }
    case "string": {
      const e = build(n.e);
      return { fn: (a) => { const v = e.fn(a); return v === undefined ? undefined : String(v); }, type: "string", perRequest: e.perRequest };
    }
    case "method": {
      const t = want(build(n.target), "string", n.col, n.name);
      const arg = want(build(n.arg), "string", n.col, n.name);
      const name = n.name;
      return {
        fn: (a) => {
          const s = t.fn(a);
          const x = arg.fn(a);
          if (typeof s !== "string" || typeof x !== "string") return undefined;
          return name === "startsWith" ? s.startsWith(x) : name === "endsWith" ? s.endsWith(x) : s.includes(x);
        },
        type: "bool",
        perRequest: t.perRequest || arg.perRequest,
      };
    }
  }
}

function want(t: Typed, type: CelType, col: number, op: string): Typed {
  if (t.type !== type) throw new CelError(`${op} needs a ${type}, found a ${t.type}`, col);
  return t;
}
