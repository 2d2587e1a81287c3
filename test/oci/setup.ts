// Shared set-up of the OCIR subprocess tests: a private environment with an
// API key in ~/.oci/config, and the fakes started and stopped with it.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DIST, makeTestEnv, runCommand, type RunResult, type TestEnv } from "../support/env.ts";
import { apiKeyProfile, makeApiKey, startFakeOcir, writeOciConfig, type ApiKey, type FakeOcir } from "./fakes.ts";

export const NOT_FOUND = "credentials not found in native keychain\n";

export interface OciTest {
  t: TestEnv;
  key: ApiKey;
  ocir: FakeOcir;
  /** ~/.oci/config inside the test's HOME. */
  ociConfig: string;
  /** Writes the helper's configuration file: each host gets the fake's token endpoint plus `extra`. */
  configure(hosts: Record<string, Record<string, unknown>>): void;
  get(host: string, env?: Record<string, string>, cwd?: string): Promise<RunResult>;
  cleanup(): Promise<void>;
}

export function setupOci(options: { withConfig?: boolean; env?: Record<string, string> } = {}): OciTest {
  // A closed port: no test ever reaches 169.254.169.254, even by accident.
  const t = makeTestEnv({ CCH_OCI_METADATA_URL: "http://127.0.0.1:9/opc/v2/", ...options.env });
  const key = makeApiKey(join(t.dir, "keys"));
  const ocir = startFakeOcir();
  ocir.trust(key.keyId, key.publicKey);
  const ociDir = join(t.env.HOME!, ".oci");
  mkdirSync(ociDir, { recursive: true });
  const ociConfig = join(ociDir, "config");
  if (options.withConfig !== false) writeOciConfig(ociConfig, { DEFAULT: apiKeyProfile(key) });
  const test: OciTest = {
    t,
    key,
    ocir,
    ociConfig,
    configure(hosts) {
      const registries: Record<string, Record<string, unknown>> = {};
      for (const [host, extra] of Object.entries(hosts)) registries[host] = { tokenEndpoint: ocir.url, ...extra };
      t.writeConfig({ registries });
    },
    // As docker runs it: the server URL on stdin; `cwd` for tests that watch the working directory.
    get: (host, env = {}, cwd) => runCommand([join(DIST, "docker-credential-oci"), "get"], host, { ...t.env, ...env }, { cwd }),
    async cleanup() {
      await ocir.stop();
      t.cleanup();
    },
  };
  test.configure({ "iad.ocir.io": {} });
  return test;
}

export function credentialOf(r: RunResult): { ServerURL: string; Username: string; Secret: string } {
  if (r.exitCode !== 0) throw new Error(`helper failed (${r.exitCode}): ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}
