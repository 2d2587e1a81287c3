// A throw-away certificate authority and a leaf for 127.0.0.1/localhost, made
// with openssl in the test's temp dir: for fakes that must speak https (the
// Entra ID authority, since MSAL insists on https; the OKE proxymux). Helpers
// trust the CA through NODE_EXTRA_CA_CERTS, which Bun honours for fetch and
// node:https, in `bun` and in a compiled executable alike, or through a
// CA-file setting.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  /** PEM file of the CA: the value for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  cert: string;
  key: string;
}

export function makeTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  writeFileSync(
    f("leaf.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  const steps = [
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      f("ca.key"),
      "-out",
      f("ca.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=cch test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    ],
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("leaf.key"), "-out", f("leaf.csr"), "-subj", "/CN=127.0.0.1"],
    [
      "x509",
      "-req",
      "-in",
      f("leaf.csr"),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f("leaf.pem"),
      "-days",
      "2",
      "-extfile",
      f("leaf.ext"),
    ],
  ];
  for (const args of steps) {
    const r = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
  }
  return { caFile: f("ca.pem"), cert: readFileSync(f("leaf.pem"), "utf8"), key: readFileSync(f("leaf.key"), "utf8") };
}
