// The kit's adapter over the fake AWS (test/ecr/fake-aws.ts): faults hit
// GetAuthorizationToken; a pod's service account is trusted by the fake STS
// for its own role (AssumeRoleWithWebIdentity).

import { provider } from "../../src/providers/ecr.ts";
import { serviceAccountToken } from "../support/kubelet.ts";
import { startFakeAws } from "../ecr/fake-aws.ts";
import { HOST, makeEcrEnv } from "../ecr/support.ts";
import type { Cloud, CloudStarter, Fault } from "./kit.ts";

const ROLE_ANNOTATION = "eks.amazonaws.com/ecr-role-arn";
const SECRET_ACCESS_KEY = "test-secret-access-key-not-real";
const DEADLINE = /deadline reached|did not answer in time|within [\d.]+s/;

export const ecr: CloudStarter = {
  name: "ecr-login",
  async start(): Promise<Cloud> {
    const fake = startFakeAws();
    const trusted = () => (fake.webIdentities ??= new Map());
    return {
      name: "ecr-login",
      provider,
      host: HOST,
      env: (extra = {}) => makeEcrEnv(fake, { extra }),
      calls: () => fake.count("ecr"),
      identityCalls: () => fake.count("sts"),
      issued: () => fake.calls.flatMap((c) => (c.service === "ecr" && c.password ? [c.password] : [])),
      delay(ms) {
        fake.delayMs = ms;
      },
      fault(f: Fault | null) {
        fake.mode = "ok";
        fake.delayMs = 0;
        fake.lifetimeSeconds = 12 * 3600;
        if (f === "500") fake.mode = "error500";
        if (f === "slow") fake.delayMs = 60_000;
        if (f === "silent") fake.mode = "hang";
        if (f === "malformed") fake.mode = "badJson";
        if (f === "expired") fake.lifetimeSeconds = -60;
      },
      says: {
        "500": /HTTP 500 ServerException/,
        slow: DEADLINE,
        silent: DEADLINE,
        malformed: /a body that is not valid JSON/,
        expired: /a token that has already expired/,
      },
      secrets: () => [
        SECRET_ACCESS_KEY,
        "fake-secret-for-web-identity",
        ...fake.calls.flatMap((c) => [c.password ?? "", c.webIdentityToken ?? ""]).filter((s) => s !== ""),
      ],
      reset: () => fake.reset(),
      stop: () => fake.stop(),
      pod: {
        serviceAccount(namespace, name, nonce) {
          const token = serviceAccountToken(namespace, name, `uid-${namespace}-${name}`, {
            nonce,
            audience: "sts.amazonaws.com",
          });
          const role = `arn:aws:iam::123456789012:role/${namespace}-${name}`;
          trusted().set(token, role);
          return { token, annotations: { [ROLE_ANNOTATION]: role } };
        },
        echo(token) {
          fake.fixedPassword = token;
        },
        calls: () => fake.count("sts"),
        tokenAttributes: {
          serviceAccountTokenAudience: "sts.amazonaws.com",
          cacheType: "ServiceAccount",
          requireServiceAccount: false,
          optionalServiceAccountAnnotationKeys: [ROLE_ANNOTATION],
        },
      },
    };
  },
};
