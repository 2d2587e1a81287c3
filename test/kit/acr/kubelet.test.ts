// docker-credential-acr as kubelet runs it in service-account-token mode
// (KEP-4412), beyond the kit's shared kubelet scenarios (test/kit/kubelet.test.ts:
// response shape, caching per service account, the pod's token never returned): the built binary, a CredentialProviderRequest on stdin carrying
// the pod's token and its service account's annotations, answers decoded with
// kubelet's strict rules. The pod's token is the client assertion for the
// client and tenant the annotations name; the node's identity (here both a
// service principal and a managed identity) is never used for a pod.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DIST, runHelper, type TestEnv } from "../../support/env.ts";
import { decodeStrict, kubeletMatches, runAsKubelet } from "../../support/kubelet.ts";
import { expectCredential, NULL_GUID } from "../../acr/support/expect.ts";
import { TENANT } from "../../acr/support/fakes.ts";
import { makeJwt, nowSeconds } from "../../acr/support/jwt.ts";
import { acrTestEnv, LOGIN, managedIdentityEnv, servicePrincipalEnv, useWorld } from "../../acr/support/setup.ts";
import { jwtClaims } from "../../../src/jwt.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const BIN = () => [join(DIST, "docker-credential-acr"), "get-credentials"];
const CLIENT_ID_KEY = "kubernetes.azure.com/acr-client-id";
const TENANT_ID_KEY = "kubernetes.azure.com/acr-tenant-id";
const APP_A = "a0000000-0000-4000-8000-00000000000a";
const APP_B = "b0000000-0000-4000-8000-00000000000b";
const SUB_A = "system:serviceaccount:team-a:puller";
const SUB_B = "system:serviceaccount:team-b:puller";

/** A projected service account token as kubelet sends it (signed by the API server; here unsigned). */
function podToken(sub: string, nonce: string): string {
  const [, namespace, name] = /^system:serviceaccount:([^:]+):(.+)$/.exec(sub)!;
  return makeJwt({
    iss: "https://kubernetes.default.svc.cluster.local",
    aud: ["api://AzureADTokenExchange"],
    sub,
    "kubernetes.io": { namespace, serviceaccount: { name, uid: `uid-${name}-${namespace}` }, pod: { name: `pod-${nonce}` } },
    jti: nonce,
    exp: nowSeconds() + 3600,
  });
}

const annotations = (clientId: string, tenantId = TENANT) => ({ [CLIENT_ID_KEY]: clientId, [TENANT_ID_KEY]: tenantId });

function request(token: string | null, serviceAccountAnnotations: Record<string, string> = {}, image = `${LOGIN}/team/app:v1`) {
  return {
    kind: "CredentialProviderRequest",
    apiVersion: V1,
    image,
    ...(token === null ? {} : { serviceAccountToken: token, serviceAccountAnnotations }),
  };
}

const { w, track } = useWorld();
let t: TestEnv;

/** The node has both a service principal and a managed identity: neither may serve a pod. */
function nodeEnv(): TestEnv {
  t = track(acrTestEnv(w, { ...servicePrincipalEnv(w), ...managedIdentityEnv(w) }));
  w.entra.federated.set(APP_A, SUB_A).set(APP_B, SUB_B);
  return t;
}

describe("kubelet service-account-token mode through the built binary", () => {
  test("round trip: the pod's token is the assertion for the annotated client; auth keyed by the bare host", async () => {
    nodeEnv();
    const token = podToken(SUB_A, "1");
    const image = `${LOGIN}/team/app@sha256:${"a".repeat(64)}`;
    const r = await runAsKubelet(BIN(), t.env, request(token, annotations(APP_A), image));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const d = decodeStrict(r.stdout, V1);
    expect(d.cacheKeyType).toBe("Registry");
    expect(Object.keys(d.auth)).toEqual([LOGIN]);
    expect(kubeletMatches(LOGIN, image)).toBe(true);
    const auth = d.auth[LOGIN]!;
    expect(auth.username).toBe(NULL_GUID);
    expect(auth.password).toBe(w.acr.issued.at(-1)!);
    expect(auth.password).not.toBe(token);
    expect(jwtClaims(auth.password)?.appid).toBe(APP_A);
    // Within the refresh token's life (3 h): kubelet asks again at about half of it.
    const life = (jwtClaims(auth.password)!.exp as number) * 1000 - Date.now();
    expect(d.cacheDurationMs!).toBeGreaterThan(0);
    expect(d.cacheDurationMs!).toBeLessThanOrEqual(life / 2);

    expect(w.entra.lastAssertion).toBe(token);
    expect(w.entra.lastUsedSecret).toBe(false);
    expect(w.entra.lastForm).toMatchObject({
      client_id: APP_A,
      scope: "https://containerregistry.azure.net/.default",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(w.acr.lastForm).toEqual({ grant_type: "access_token", service: LOGIN, tenant: TENANT });
    expect(w.mi.total() + w.thief.total()).toBe(0);
  });

  test("the node's identity is not a fallback: a pod Entra ID refuses gets an error, not the node's credential", async () => {
    nodeEnv();
    // Team B's token asking for team A's application: the federation does not trust that subject.
    const r = await runAsKubelet(BIN(), t.env, request(podToken(SUB_B, "1"), annotations(APP_A)));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^docker-credential-acr: Azure Container Registry: Entra ID refused the pod's service account as a0000000-0000-4000-8000-00000000000a in tenant [\w-]+ for myreg\.azurecr\.io: invalid_client: AADSTS7000215[^\n]*\n$/,
    );
    expect(w.entra.lastUsedSecret).toBe(false);
    expect(w.entra.byClient).toEqual({});
    expect(w.mi.total()).toBe(0);
    expect(w.acr.calls.exchange ?? 0).toBe(0);
    // …although the node's identity works for the node.
    expectCredential(await runHelper("acr", ["get"], LOGIN, t.env));
  });

  test("missing or malformed annotations: one line on stderr, exit 1, no call", async () => {
    nodeEnv();
    const token = podToken(SUB_A, "1");
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /no kubernetes\.azure\.com\/acr-client-id or kubernetes\.azure\.com\/acr-tenant-id annotation/],
      [{ [CLIENT_ID_KEY]: APP_A }, /no kubernetes\.azure\.com\/acr-tenant-id annotation/],
      [{ [TENANT_ID_KEY]: TENANT, [CLIENT_ID_KEY]: " " }, /no kubernetes\.azure\.com\/acr-client-id annotation/],
      [annotations(APP_A, "../../evil.example/x"), /acr-tenant-id must be a tenant id/],
      [annotations("app?x=1", TENANT), /acr-client-id must be a client id/],
    ];
    for (const [given, message] of cases) {
      const r = await runAsKubelet(BIN(), t.env, request(token, given));
      expect({ given, exitCode: r.exitCode, stdout: r.stdout }).toEqual({ given, exitCode: 1, stdout: "" });
      expect(r.stderr).toStartWith("docker-credential-acr: Azure Container Registry: the ");
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split("\n")).toEqual([expect.any(String), ""]);
    }
    expect(w.entra.total() + w.mi.total() + w.acr.total() + w.thief.total()).toBe(0);
  });
});
