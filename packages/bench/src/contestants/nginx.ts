/**
 * nginx as a plain reverse proxy: the floor for any proxy, outside Node. It runs its own instance
 * from a config written into the run's workDir (pid, logs, temp files all there), so it needs no
 * root and no system service. Kept at production defaults except what proxying SSE needs.
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, spawnPinned, waitForHttp } from "../processes.ts";
import type { ContestantSpec, StartContext } from "../types.ts";

const LABEL = "nginx proxy_pass";
// The project's one installer of nginx (the replicas test uses it too).
const INSTALL_SCRIPT = fileURLToPath(new URL("../../../../scripts/nginx-tools.sh", import.meta.url));
let installTried = false;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nginx binary on PATH or where Debian puts it (/usr/sbin is not on a non-root PATH). */
function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"];
  return dirs.map((d) => join(d, "nginx")).find(executable);
}

/** `nginx -V` (to stderr): the version and which modules were compiled out. */
function describe(bin: string): { version: string; configure: string } {
  const out = spawnSync(bin, ["-V"], { encoding: "utf8" }).stderr ?? "";
  return { version: /nginx\/(\S+)/.exec(out)?.[1] ?? "unknown", configure: out };
}

async function runInstall(ctx: StartContext): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn("bash", [INSTALL_SCRIPT], { stdio: ["ignore", "ignore", "pipe"] });
    let rest = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      const lines = (rest + d).split("\n");
      rest = lines.pop()!;
      for (const l of lines) if (l) ctx.log(l);
    });
    child.once("close", () => resolve());
    child.once("error", () => resolve());
  });
}

function config(dir: string, port: number, upstreamOrigin: string, configure: string, upstreamCa?: string): string {
  const upstream = new URL(upstreamOrigin).host;
  const https = new URL(upstreamOrigin).protocol === "https:";
  // An HTTPS upstream (traffic-shapes scenario): its certificate verified against the run's private CA.
  // The name checked (and sent as SNI) is the certificate's DNS name: nginx matches DNS names, not IP addresses.
  const tls = https
    ? `
      proxy_ssl_trusted_certificate ${upstreamCa};
      proxy_ssl_verify on;
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;`
    : "";
  // Debian's compiled-in temp paths are under /var/lib/nginx, which a non-root user cannot create.
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .filter((m) => m === "client_body" || !configure.includes(`--without-http_${m}_module`))
    .map((m) => `  ${m}_temp_path ${join(dir, "temp", m)};`)
    .join("\n");
  return `daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "nginx-error.log")};

events {
  worker_connections 4096;
}

http {
  # Logging on, as in production and as the other contestants do.
  access_log ${join(dir, "nginx-access.log")};
${temps}
  # Request bodies up to 128 KB held in memory, as the Node contestants hold them (the traffic-shapes
  # scenario sends 50 KB). Past the default 16 KB nginx spools a body to client_body_temp_path, which a
  # worker started by root runs as nobody and cannot write in the run's private workDir (a 500).
  client_body_buffer_size 128k;

  upstream static_upstream {
    server ${upstream};
    keepalive 64;
  }

  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${https ? "https" : "http"}://static_upstream;${tls}
      # Keep-alive to the upstream needs HTTP/1.1 and no "Connection: close".
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Relay SSE events as they come instead of filling a buffer first.
      proxy_buffering off;
    }
  }
}
`;
}

/** Pids of the direct children (the workers), to reap them if the master has to be SIGKILLed. */
function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) pids.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

export const nginx: ContestantSpec = {
  id: "nginx",
  label: LABEL,
  async unavailable(ctx) {
    if (findNginx()) return undefined;
    const canInstall = process.getuid?.() === 0 && executable("/usr/bin/apt-get");
    if (canInstall && !installTried) {
      installTried = true;
      ctx.log("nginx not found; installing it from apt");
      await runInstall(ctx);
      if (findNginx()) return undefined;
    }
    return canInstall
      ? "nginx is not installed and scripts/nginx-tools.sh could not install it"
      : "nginx is not installed (as root: scripts/nginx-tools.sh)";
  },
  async start(ctx) {
    const bin = findNginx();
    if (!bin) throw new Error("nginx is not installed");
    const { version, configure } = describe(bin);
    const port = await freePort();
    mkdirSync(join(ctx.workDir, "temp"), { recursive: true });
    const conf = join(ctx.workDir, "nginx.conf");
    writeFileSync(conf, config(ctx.workDir, port, ctx.upstreamOrigin, configure, ctx.upstreamCa));
    const logFile = join(ctx.workDir, "nginx.log");
    // -e: the error log before the config is read (else the compiled-in path, maybe /var/log).
    const started = spawnPinned(bin, ["-p", ctx.workDir, "-c", conf, "-e", join(ctx.workDir, "nginx-error.log")], { cpu: ctx.cpu, logFile });
    // SIGTERM is nginx's fast shutdown (workers included); a SIGKILLed master would orphan its worker.
    const stop = async () => {
      const workers = childrenOf(started.pid);
      await started.stop();
      for (const pid of workers) {
        try {
          // The comm check keeps a recycled pid from being hit.
          if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "nginx") process.kill(pid, "SIGKILL");
        } catch {
          // already gone, as it should be
        }
      }
    };
    const origin = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${origin}/v1/models`, started, 10_000, join(ctx.workDir, "nginx-error.log"));
    } catch (err) {
      await stop();
      throw err;
    }
    ctx.log(`nginx ${version} on ${origin} (master pid ${started.pid})`);
    return {
      id: "nginx",
      label: LABEL,
      baseUrl: `${origin}/v1`,
      headers: { authorization: `Bearer ${ctx.upstreamKey}` },
      pid: started.pid,
      version,
      stop,
    };
  },
};
