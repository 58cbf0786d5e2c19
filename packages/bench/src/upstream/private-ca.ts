/**
 * A private certificate authority made at run time with `openssl`, and a server certificate it
 * signed for 127.0.0.1 (and localhost): the HTTPS upstream's identity, which every contestant is told
 * to trust (Node through NODE_EXTRA_CA_CERTS, nginx through proxy_ssl_trusted_certificate). Valid for
 * a day, in the run's workDir, removed with it. openssl comes from scripts/openssl-tools.sh, which
 * installs it from apt on a machine without it.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const INSTALL_SCRIPT = fileURLToPath(new URL("../../../../scripts/openssl-tools.sh", import.meta.url));
let found: { path: string } | { missing: string } | undefined;

/** The openssl binary (installed when missing and possible), found once. */
function opensslPath(): { path: string } | { missing: string } {
  if (found) return found;
  try {
    const stdout = execFileSync("bash", [INSTALL_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10 * 60_000 });
    found = { path: stdout.trim().split("\n").at(-1)! };
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim().split("\n").at(-1);
    found = { missing: `openssl is not installed and scripts/openssl-tools.sh could not install it${stderr ? ` (${stderr})` : ""}` };
  }
  return found;
}

export interface PrivateCa {
  /** The CA's certificate (PEM): what a client trusts. */
  caFile: string;
  /** The server's certificate and key (PEM). */
  certFile: string;
  keyFile: string;
}

/** Undefined when openssl runs here, else why not. */
export function opensslMissing(): string | undefined {
  const o = opensslPath();
  return "missing" in o ? o.missing : undefined;
}

export function makePrivateCa(dir: string): PrivateCa {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const o = opensslPath();
  if ("missing" in o) throw new Error(o.missing);
  const openssl = (...args: string[]) => execFileSync(o.path, args, { stdio: ["ignore", "ignore", "pipe"] });
  // P-256 keys: what most public HTTPS APIs present, and instant to make.
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "1", "-subj", "/CN=mcpgw bench private CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(
    f("server.ext"),
    ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth", "authorityKeyIdentifier=keyid"].join("\n") + "\n",
  );
  openssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "1", "-extfile", f("server.ext"));
  return { caFile: f("ca.pem"), certFile: f("server.pem"), keyFile: f("server.key") };
}
