import { TesseractPulumiError } from "../common/errors";

/** A non-success answer of the Docker Engine API. */
export class DockerApiError extends TesseractPulumiError {
  constructor(
    readonly statusCode: number,
    readonly method: string,
    readonly path: string,
    readonly engineMessage: string,
  ) {
    super(`Docker engine: ${method} ${path} failed with ${statusCode}: ${engineMessage}`);
    this.name = "DockerApiError";
  }
}

/** The engine could not be reached at all. */
export class DockerUnreachableError extends TesseractPulumiError {
  constructor(host: string, cause: unknown, when?: string) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      when
        ? `The Docker engine at ${host} went away ${when} (${why}). Check that dockerd is running, then run \`pulumi up --refresh\`.`
        : `Cannot reach the Docker engine at ${host} (${why}). Is dockerd running? ` +
            "Set the resource's `docker.host` input or DOCKER_HOST to the engine's address.",
    );
    this.name = "DockerUnreachableError";
  }
}

/** A failed image build, with the step that failed and the end of the build log. */
export class DockerBuildError extends TesseractPulumiError {
  constructor(
    readonly engineMessage: string,
    readonly failedStep: string | undefined,
    readonly logTail: string[],
  ) {
    super(
      `image build failed${failedStep ? ` at ${failedStep}` : ""}: ${engineMessage}` +
        (logTail.length ? `\n--- last build log lines ---\n${logTail.join("\n")}` : ""),
    );
    this.name = "DockerBuildError";
  }
}

/** One place discovery looked for an engine, and why it was not used. */
export interface EngineAttempt {
  host: string;
  what: string;
  why: string;
}

/** Nothing names an engine and no local socket answers: lists every place tried, in order. */
export class DockerNotFoundError extends DockerUnreachableError {
  constructor(
    readonly tried: EngineAttempt[],
    readonly notSet: string[],
  ) {
    super("a local socket", "none answered");
    this.message =
      "No Docker engine found. Not set: " +
      `${notSet.join(", ")}. Tried, in order:\n` +
      tried.map((t) => `  - ${t.host} (${t.what}): ${t.why}`).join("\n") +
      "\nFix: start dockerd (or `podman system service`), or point at an engine with DOCKER_HOST, " +
      "`docker context use NAME`, or the resource's `docker` input ({ host } or { context }).";
    this.name = "DockerNotFoundError";
  }
}

/** A push the engine started but could not finish; `engineMessage` is the engine's (or registry's) text. */
export class DockerPushError extends TesseractPulumiError {
  constructor(readonly engineMessage: string) {
    super(`image push failed: ${engineMessage}`);
    this.name = "DockerPushError";
  }
}

/** A pull the engine started but could not finish; `engineMessage` is the engine's (or registry's) text. */
export class DockerPullError extends TesseractPulumiError {
  constructor(readonly engineMessage: string) {
    super(`image pull failed: ${engineMessage}`);
    this.name = "DockerPullError";
  }
}
