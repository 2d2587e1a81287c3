// Pods for the kubelet service-account-token tests: JWT-shaped service
// account tokens, CredentialProviderRequests, and a node environment set up
// for workload identity image pulls against the local fakes.

import type { FakeMetadataServer, FakeSts } from "./fakes.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";

export const V1 = "credentialprovider.kubelet.k8s.io/v1";
export const IDENTITY_PROVIDER =
  "https://container.googleapis.com/v1/projects/cch-test-project/locations/us-central1/clusters/c1";
export const AUDIENCE = `identitynamespace:cch-test-project.svc.id.goog:${IDENTITY_PROVIDER}`;
export const OPT_IN = { "iam.gke.io/enable-wi-image-pull": "true" };

/** A JWT-shaped service account token, as kubelet sends (the helper only reads its claims). */
export function saToken(namespace: string, name: string, uid: string, nonce = "n"): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const claims = {
    aud: ["cch-test-project.svc.id.goog"],
    sub: `system:serviceaccount:${namespace}:${name}`,
    "kubernetes.io": { namespace, serviceaccount: { name, uid } },
    nonce,
  };
  return `${b64({ alg: "RS256", kid: "k" })}.${b64(claims)}.sig-${nonce}`;
}

export function kubeletRequest(image: string, token?: string, annotations?: Record<string, string>): object {
  return {
    kind: "CredentialProviderRequest",
    apiVersion: V1,
    image,
    ...(token ? { serviceAccountToken: token } : {}),
    ...(annotations ? { serviceAccountAnnotations: annotations } : {}),
  };
}

/** Environment of a node set up for workload identity image pulls against the fakes. */
export function workloadEnv(md: FakeMetadataServer, sts: FakeSts, extra: Record<string, string> = {}): GcrTestEnv {
  return makeGcrEnv({
    GCE_METADATA_HOST: md.host,
    CCH_GCR_IDENTITY_PROVIDER: IDENTITY_PROVIDER,
    CCH_GCR_STS_ENDPOINT: `${sts.url}/v1/token`,
    ...extra,
  });
}
