/**
 * An nginx of a test's own (Debian's, installed by scripts/nginx-tools.sh) with the config the test
 * gives: every `{{TMP}}` in it becomes the temp folder nginx runs in, where its pid file, logs and
 * temp paths belong, so it needs no system directory and leaves nothing behind. Ready once `port`
 * accepts connections. The config should therefore have, besides its server blocks:
 *
 *   pid {{TMP}}/nginx.pid;
 *   error_log {{TMP}}/error.log;            # or stderr: it then shows in a start failure's message
 *   http {
 *     access_log off;                       # or {{TMP}}/access.log
 *     client_body_temp_path {{TMP}}/body;
 *     proxy_temp_path {{TMP}}/proxy;
 *     fastcgi_temp_path {{TMP}}/fastcgi;
 *     uwsgi_temp_path {{TMP}}/uwsgi;
 *     scgi_temp_path {{TMP}}/scgi;
 *     ...
 *   }
 *
 * As root, nginx's workers run as `nobody`: the folder is opened to others (0755) so they reach the
 * temp paths (a request body too big for memory is written there).
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ask, startService, toolPath } from "./service-process.ts";

export interface NginxProcess {
  pid: number;
  /** The temp folder ({{TMP}}), removed when stopped. */
  dir: string;
  stop(): Promise<void>;
}

export async function startNginx(config: string, opts: { port: number }): Promise<NginxProcess> {
  const bin = await toolPath("nginx-tools.sh");
  const dir = mkdtempSync(join(tmpdir(), "mcpgw-nginx-"));
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  writeFileSync(join(dir, "nginx.conf"), config.replaceAll("{{TMP}}", dir));
  // SIGQUIT would wait for open connections; SIGTERM is nginx's fast shutdown.
  const service = await startService("nginx", bin, ["-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
    dir,
    port: opts.port,
    ready: async () => (await ask(opts.port, "")) === "connected",
  });
  return { dir, ...service };
}
