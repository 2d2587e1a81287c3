// Environments for the gcr helper tests: isolated (makeTestEnv), aimed only at
// 127.0.0.1, GOOGLE_CLOUD_PROJECT set (else google-auth-library may spawn
// gcloud to find a project), and a fake `gcloud` first on PATH that records
// each run, so a test can prove gcloud was (or was not) started.

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestEnv, runHelper, type RunResult, type TestEnv } from "../support/env.ts";

export interface GcrTestEnv extends TestEnv {
  /** Marker file the fake gcloud writes when it runs. */
  gcloudMarker: string;
  get(host: string, extraEnv?: Record<string, string>): Promise<RunResult>;
  /** Files of the token cache, parsed. */
  cacheEntries(): Array<{ file: string; data: Record<string, unknown> }>;
}

export interface FakeGcloudOutput {
  token: string;
  expiry: string;
}

export function makeGcrEnv(extra: Record<string, string> = {}, gcloud?: FakeGcloudOutput): GcrTestEnv {
  const t = makeTestEnv({
    GOOGLE_CLOUD_PROJECT: "cch-test-project",
    // No metadata server at all unless a test starts one: a closed port on 127.0.0.1.
    GCE_METADATA_HOST: "127.0.0.1:9",
    ...extra,
  });
  const bin = join(t.dir, "bin");
  mkdirSync(bin, { recursive: true });
  const gcloudMarker = join(t.dir, "gcloud-was-run");
  const output = gcloud
    ? JSON.stringify({
        configuration: { active_configuration: "default" },
        credential: { access_token: gcloud.token, token_expiry: gcloud.expiry },
      })
    : "";
  const script = [
    "#!/bin/sh",
    `echo "$@" >> '${gcloudMarker}'`,
    gcloud ? `cat <<'EOF'\n${output}\nEOF` : "echo 'ERROR: (gcloud) fake gcloud has no account' >&2; exit 1",
    "",
  ].join("\n");
  writeFileSync(join(bin, "gcloud"), script);
  chmodSync(join(bin, "gcloud"), 0o755);
  t.env.PATH = `${bin}:${t.env.PATH}`;
  return {
    ...t,
    gcloudMarker,
    get: (host, extraEnv = {}) => runHelper("gcr", ["get"], host, { ...t.env, ...extraEnv }),
    cacheEntries() {
      if (!existsSync(t.cacheDir)) return [];
      return readdirSync(t.cacheDir)
        .filter((f) => f.endsWith(".token.json"))
        .map((f) => ({ file: join(t.cacheDir, f), data: JSON.parse(readFileSync(join(t.cacheDir, f), "utf8")) }));
    },
  };
}
