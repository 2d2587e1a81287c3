// The kit's adapter over the ACR world of fakes (test/acr/support/): the node
// is a service principal at the fake Entra ID; faults hit the login server's
// token exchange (/oauth2/exchange), which hands out the registry credential;
// a pod's service account is a federated credential of its own application.

import { provider } from "../../src/providers/acr.ts";
import { CLIENT_SECRET, TENANT } from "../acr/support/fakes.ts";
import { makeJwt, nowSeconds } from "../acr/support/jwt.ts";
import { acrTestEnv, LOGIN, resetWorld, servicePrincipalEnv, startWorld } from "../acr/support/setup.ts";
import type { Cloud, CloudStarter, Fault } from "./kit.ts";

const CLIENT_ID_KEY = "kubernetes.azure.com/acr-client-id";
const TENANT_ID_KEY = "kubernetes.azure.com/acr-tenant-id";
const DEADLINE = /no answer before the deadline|did not answer/;

export const acr: CloudStarter = {
  name: "acr",
  async start(): Promise<Cloud> {
    const w = startWorld();
    const apps = new Map<string, string>();
    const podTokens: string[] = [];
    /** One application (client id) per service account, trusting only that subject. */
    const appFor = (subject: string): string => {
      let app = apps.get(subject);
      if (!app) {
        app = `a0000000-0000-4000-8000-${String(apps.size + 1).padStart(12, "0")}`;
        apps.set(subject, app);
        w.entra.federated.set(app, subject);
      }
      return app;
    };
    const normal = () => {
      w.acr.mode = "ok";
      w.acr.delayMs = 500;
      w.acr.lifetime = 3 * 3600;
      w.acr.fixedRefreshToken = null;
    };
    resetWorld(w);
    return {
      name: "acr",
      provider,
      host: LOGIN,
      env: (extra = {}) => acrTestEnv(w, { ...servicePrincipalEnv(w), ...extra }),
      calls: () => w.acr.calls.exchange ?? 0,
      identityCalls: () => w.entra.calls.token ?? 0,
      issued: () => w.acr.issued,
      delay(ms) {
        w.acr.mode = "slow";
        w.acr.delayMs = ms;
      },
      fault(f: Fault | null) {
        normal();
        if (f === "500") w.acr.mode = "error";
        if (f === "slow") {
          w.acr.mode = "slow";
          w.acr.delayMs = 60_000;
        }
        if (f === "silent") w.acr.mode = "hang";
        if (f === "malformed") w.acr.mode = "garbage";
        if (f === "expired") w.acr.lifetime = -60;
      },
      says: {
        "500": /failed the token exchange with HTTP 500/,
        slow: DEADLINE,
        silent: DEADLINE,
        malformed: /answered the token exchange with a body that is not JSON/,
        expired: /already expired/,
      },
      secrets: () => [CLIENT_SECRET, ...w.entra.issued, ...w.mi.issued, ...w.acr.issued, ...podTokens],
      reset() {
        resetWorld(w);
        w.acr.issued.length = 0;
        apps.clear();
        podTokens.length = 0;
      },
      stop: () => w.stop(),
      pod: {
        serviceAccount(namespace, name, nonce) {
          const sub = `system:serviceaccount:${namespace}:${name}`;
          const token = makeJwt({
            iss: "https://kubernetes.default.svc.cluster.local",
            aud: ["api://AzureADTokenExchange"],
            sub,
            "kubernetes.io": { namespace, serviceaccount: { name, uid: `uid-${namespace}-${name}` } },
            jti: nonce,
            exp: nowSeconds() + 3600,
          });
          podTokens.push(token);
          return { token, annotations: { [CLIENT_ID_KEY]: appFor(sub), [TENANT_ID_KEY]: TENANT } };
        },
        echo(token) {
          w.acr.fixedRefreshToken = token;
        },
        calls: () => [...apps.values()].reduce((n, app) => n + (w.entra.byClient[app] ?? 0), 0),
        tokenAttributes: {
          serviceAccountTokenAudience: "api://AzureADTokenExchange",
          cacheType: "ServiceAccount",
          requireServiceAccount: true,
          requiredServiceAccountAnnotationKeys: [CLIENT_ID_KEY, TENANT_ID_KEY],
        },
      },
    };
  },
};
