// The provider's fetch in-process, for what a subprocess cannot easily show:
// kubelet service-account-token mode (the pod's token exchanged for a role)
// and that no debug line carries a secret.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { fetchVia } from "../support/provider.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Context, ServiceAccountIdentity, Target } from "../../src/provider.ts";
import { provider } from "../../src/providers/ecr.ts";
import { matchEcrHost, type EcrTarget } from "../../src/providers/ecr/hosts.ts";
import { startFakeAws, type FakeAws } from "./fake-aws.ts";
import { HOST, REGION } from "./support.ts";

// The SDK reads process.env itself; these are restored after the file.
const AWS_VARS = {
  AWS_ENDPOINT_URL_ECR: "",
  AWS_ENDPOINT_URL_STS: "",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_CONFIG_FILE: "",
  AWS_SHARED_CREDENTIALS_FILE: "",
  AWS_ACCESS_KEY_ID: "AKIDNODEKEY",
  AWS_SECRET_ACCESS_KEY: "node-secret-not-real",
};
const saved: Record<string, string | undefined> = {};
let fake: FakeAws;
let dir: string;

beforeAll(() => {
  fake = startFakeAws();
  dir = mkdtempSync(join(tmpdir(), "cch-ecr-fetch-"));
  writeFileSync(join(dir, "empty"), "");
  const values = {
    ...AWS_VARS,
    AWS_ENDPOINT_URL_ECR: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_CONFIG_FILE: join(dir, "empty"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "empty"),
  };
  for (const [k, v] of Object.entries(values)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function context(lines: string[], serviceAccount?: ServiceAccountIdentity): Context {
  const deadline = Date.now() + 10_000;
  return {
    env: { ...process.env },
    now: () => new Date(),
    log: createLogger((line) => lines.push(line), "test"),
    signal: AbortSignal.timeout(10_000),
    deadline,
    config: EMPTY_CONFIG,
    ...(serviceAccount ? { serviceAccount } : {}),
  };
}

const target: Target<EcrTarget> = {
  host: { key: HOST, hostname: HOST, port: null },
  registry: HOST,
  settings: {},
  details: matchEcrHost(HOST)!,
};

test("service-account mode: the pod's token is exchanged for the annotated role, then ECR is called as that role", async () => {
  fake.reset();
  const podToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpwdWxsZXIifQ.pod-token-signature";
  const lines: string[] = [];
  const ctx = context(lines, {
    token: podToken,
    annotations: { "eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/pod-puller" },
  });
  const credential = await fetchVia(provider, target, ctx);
  expect(credential.username).toBe("AWS");
  expect(credential.expiresAt.getTime()).toBeGreaterThan(Date.now());
  expect(fake.calls.map((c) => [c.service, c.region, c.accessKeyId])).toEqual([
    ["sts", "", ""],
    ["ecr", REGION, "ASIAPODPULLER"],
  ]);
  expect(fake.calls[0]!.webIdentityToken).toBe(podToken);
  expect(JSON.stringify({ ...provider.plan(target, ctx), caller: null })).not.toContain(podToken);
});

test("debug lines name the source and never a secret", async () => {
  fake.reset();
  const lines: string[] = [];
  const credential = await fetchVia(provider, target, context(lines));
  const log = lines.join("");
  expect(log).toContain("AWS_ACCESS_KEY_ID");
  for (const secret of [
    credential.secret,
    "node-secret-not-real",
    "AKIDNODEKEY",
    Buffer.from(`AWS:${credential.secret}`).toString("base64"),
  ]) {
    expect(log).not.toContain(secret);
  }
});
