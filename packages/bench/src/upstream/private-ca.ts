/**
 * A private certificate authority made at run time with `openssl`, and a server certificate it
 * signed for 127.0.0.1 (and localhost): the HTTPS upstream's identity, which every contestant is told
 * to trust (Node through NODE_EXTRA_CA_CERTS, nginx through proxy_ssl_trusted_certificate). Valid for
 * a day, in the run's workDir, removed with it.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface PrivateCa {
  /** The CA's certificate (PEM): what a client trusts. */
  caFile: string;
  /** The server's certificate and key (PEM). */
  certFile: string;
  keyFile: string;
}

/** Undefined when openssl runs here, else why not. */
export function opensslMissing(): string | undefined {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "openssl is not installed (apt-get install openssl)";
  }
}

export function makePrivateCa(dir: string): PrivateCa {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
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
