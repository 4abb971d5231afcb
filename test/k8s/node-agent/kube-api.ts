// The few API calls the test node agent makes besides its watches (those use the control plane's
// Reflector): create, merge-patch, delete and get, each answering the status and parsed body.
import { request } from "node:https";
import type { KubeConnection } from "../../../src/control-plane/kubernetes/index.ts";

export interface ApiAnswer {
  status: number;
  body: { message?: string; [k: string]: unknown };
}

export class KubeApi {
  readonly conn: KubeConnection;
  constructor(conn: KubeConnection) {
    this.conn = conn;
  }

  get(path: string): Promise<ApiAnswer> {
    return this.send("GET", path);
  }

  post(path: string, body: object): Promise<ApiAnswer> {
    return this.send("POST", path, body, "application/json");
  }

  /** A JSON merge patch (RFC 7386): lists are replaced whole. */
  patch(path: string, body: object): Promise<ApiAnswer> {
    return this.send("PATCH", path, body, "application/merge-patch+json");
  }

  delete(path: string, body?: object): Promise<ApiAnswer> {
    return this.send("DELETE", path, body, "application/json");
  }

  /** Like send, but a status outside 2xx (and outside `accept`) rejects with the server's message. */
  async must(answer: Promise<ApiAnswer>, what: string, accept: readonly number[] = []): Promise<ApiAnswer> {
    const a = await answer;
    if ((a.status < 200 || a.status > 299) && !accept.includes(a.status)) throw new Error(`${what}: ${a.status} ${a.body.message ?? ""}`);
    return a;
  }

  private send(method: string, path: string, body?: object, type?: string): Promise<ApiAnswer> {
    const url = new URL(path, this.conn.server);
    const token = this.conn.token?.();
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...(type && text !== undefined ? { "content-type": type, "content-length": String(Buffer.byteLength(text)) } : {}) };
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ...(this.conn.ca !== undefined ? { ca: this.conn.ca } : {}), rejectUnauthorized: !this.conn.insecure }, (res) => {
        let got = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (got += d));
        res.on("end", () => {
          let parsed: ApiAnswer["body"] = {};
          try {
            parsed = got === "" ? {} : (JSON.parse(got) as ApiAnswer["body"]);
          } catch {
            parsed = { message: got.slice(0, 500) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(text);
    });
  }
}
