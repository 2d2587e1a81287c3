import { describe, expect, test } from "bun:test";
import { checkSettingsKeys, parseConfig } from "../../src/config.ts";

const F = "/etc/cch/config.json";

describe("configuration file", () => {
  test("empty or whitespace is an empty configuration", () => {
    expect(parseConfig("", F).registries.size).toBe(0);
    expect(parseConfig("  \n", F).timeoutSeconds).toBeNull();
  });

  test("registries are keyed by normalised host; aliases lower-cased", () => {
    const c = parseConfig(
      JSON.stringify({
        timeoutSeconds: 5,
        registries: {
          "Registry.Internal:5000": { alias: "123456789012.DKR.ECR.us-east-1.amazonaws.com", profile: "prod" },
          "mirror.example.com": { alias: "us-docker.pkg.dev", scopes: ["a", "b"], impersonate: true },
        },
      }),
      F,
    );
    expect(c.timeoutSeconds).toBe(5);
    expect(c.registries.get("registry.internal:5000")).toEqual({
      alias: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      profile: "prod",
    });
    expect(c.registries.get("mirror.example.com")?.scopes).toEqual(["a", "b"]);
  });

  test.each([
    ["{", "not valid JSON"],
    ["[]", "must be a JSON object"],
    ['{"registry":{}}', 'unknown key "registry"'],
    ['{"timeoutSeconds":-1}', "timeoutSeconds"],
    ['{"timeoutSeconds":"10"}', "timeoutSeconds"],
    ['{"registries":[]}', '"registries" must be an object'],
    ['{"registries":{"user@host":{}}}', 'registry "user@host": user information'],
    ['{"registries":{"h":"x"}}', 'registry "h" must map to an object'],
    ['{"registries":{"h":{"alias":"https://x/y"}}}', '"alias" must be a registry host name'],
    ['{"registries":{"h":{"alias":5}}}', '"alias" must be a registry host name'],
    ['{"registries":{"h":{"profile":{"a":1}}}}', '"profile" must be a string'],
    ['{"registries":{"H":{},"h":{}}}', "listed twice"],
  ])("%p is refused with a message naming the file and the problem", (text, problem) => {
    expect(() => parseConfig(text, F)).toThrow(`configuration file ${F}: `);
    expect(() => parseConfig(text, F)).toThrow(problem);
  });

  test("provider settings are checked against the keys the provider knows", () => {
    const c = parseConfig('{"registries":{"h":{"alias":"gcr.io","profil":"x"}}}', F);
    expect(() => checkSettingsKeys(c, "h", c.registries.get("h")!, ["profile"])).toThrow('unknown setting "profil"');
    expect(() => checkSettingsKeys(c, "h", c.registries.get("h")!, ["profil"])).not.toThrow();
  });
});
