// The CLI writes stdout and stderr with write(2) instead of process.stdout
// (whose stream machinery costs every start MiBs and milliseconds). Output
// must still arrive whole and in order through a pipe that is read late, and
// a reader that has gone away is not an error.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../support/env.ts";

const CHILD = `
import { writeOut } from ${JSON.stringify(join(ROOT, "src/cli.ts"))};
writeOut(1, "a".repeat(200_000));
writeOut(2, "to stderr\\n");
writeOut(1, "b".repeat(200_000) + "\\n");
`;

test("large output arrives whole and in order through a pipe read late", async () => {
  const p = Bun.spawn([process.execPath, "-e", CHILD], { stdout: "pipe", stderr: "pipe" });
  await Bun.sleep(300);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(0);
  expect(out).toBe("a".repeat(200_000) + "b".repeat(200_000) + "\n");
  expect(err).toBe("to stderr\n");
});

test("a reader that has gone away (EPIPE) is not an error", async () => {
  const p = Bun.spawn([process.execPath, "-e", CHILD], { stdout: "pipe", stderr: "pipe" });
  await p.stdout.cancel();
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  expect(err).toBe("to stderr\n");
  expect(code).toBe(0);
});
