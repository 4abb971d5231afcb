// A real Prometheus (Debian's /usr/bin/prometheus) for end-to-end tests: its own config, data dir
// and port, scraping the file_sd target list that `amime up` writes every 1 s.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unusedPort } from "../support/ports.ts";

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}


export async function startPrometheus(fileSd: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "amime-prom-"));
  const port = await unusedPort();
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: amime\n    file_sd_configs:\n      - files: [${JSON.stringify(fileSd)}]\n        refresh_interval: 1s\n`,
  );
  const child = spawn("/usr/bin/prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An instant PromQL query's vector result ([] while Prometheus is not up yet). */
export async function promVector(url: string, query: string): Promise<Sample[]> {
  try {
    const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await r.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    return (body.data?.result ?? []).map((x) => ({ metric: x.metric, value: Number(x.value[1]) }));
  } catch {
    return [];
  }
}

/** The first value of an instant query, or undefined. */
export async function promQuery(url: string, query: string): Promise<number | undefined> {
  return (await promVector(url, query))[0]?.value;
}
