// The AWS SDK's own node:http handler, with each answer's body counted as it
// streams: past the limit the connection is dropped and the call fails with
// BodyTooLargeError, instead of the SDK collecting the whole body first.
// Every client on the cache-miss path gets one (ECR, ECR Public, and through
// the credential providers' clientConfig, STS and SSO).

import { NodeHttpHandler, type NodeHttpHandlerOptions } from "@smithy/node-http-handler";
import type { HttpHandlerOptions } from "@smithy/types";
import { Transform, pipeline, type Readable } from "node:stream";
import { BodyTooLargeError, MAX_BODY_BYTES } from "../../body.ts";

type Request = Parameters<NodeHttpHandler["handle"]>[0];

export class CappedHttpHandler extends NodeHttpHandler {
  constructor(
    options: NodeHttpHandlerOptions,
    private readonly limit = MAX_BODY_BYTES,
  ) {
    super(options);
  }

  override async handle(request: Request, options?: HttpHandlerOptions) {
    const out = await super.handle(request, options);
    const body = out.response.body as Readable | undefined;
    if (body && typeof body.pipe === "function") out.response.body = capStream(body, this.limit, originOf(request));
    return out;
  }
}

function capStream(body: Readable, limit: number, origin: string): Readable {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limit) return done(new BodyTooLargeError(`${origin} answered with more than ${limit} bytes; not read further`));
      done(null, chunk);
    },
  });
  // On the error, pipeline destroys the source too: the socket is closed, not drained.
  return pipeline(body, counter, () => {});
}

function originOf(request: Request): string {
  return `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}`;
}
