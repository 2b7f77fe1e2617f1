import type { Duplex, Readable } from "node:stream";
import { DockerClient } from "./client";
import type { DockerConnection } from "./connection";
import type * as T from "./types";

/**
 * The container-engine operations the build and serve code use: the seam between orchestration
 * and the Docker Engine API. `DockerClient` implements it against a real engine; unit tests use an
 * in-memory fake (`test/helpers/fake-engine.ts`). Errors follow the Docker client's: a
 * `DockerApiError` with the engine's status code (404 missing, 409 conflict).
 */
export interface ContainerEngine {
  /** Engine address, e.g. `unix:///var/run/docker.sock` (for messages). */
  readonly host: string;
  /** True when the engine answers within a few seconds. */
  answers(): Promise<boolean>;

  /** An image by name or ID, or undefined when missing. */
  inspectImage(name: string): Promise<T.ImageInspect | undefined>;
  /** Image summaries matching Engine API filters (e.g. `{label: ["a=b"]}`). */
  listImages(filters?: Record<string, string[]>): Promise<T.ImageSummary[]>;
  /** Removes an image or a tag; false when it was already gone. */
  removeImage(name: string, opts?: { force?: boolean; noprune?: boolean }): Promise<boolean>;
  /** Adds the tag `repo:tag` to an image. */
  tagImage(source: string, repo: string, tag: string): Promise<void>;
  /**
   * Pushes `name:tag` to the registry the name starts with (`auth` as `X-Registry-Auth`); progress
   * messages go to `onProgress`; resolves with the manifest digest, rejects with DockerPushError.
   */
  pushImage(
    name: string,
    tag: string,
    auth: T.RegistryAuth,
    onProgress: (message: T.PushMessage) => void,
    signal?: AbortSignal,
  ): Promise<string>;
  /**
   * Pulls `repository@sha256:…` (or `repository:tag`) from the registry the name starts with
   * (`auth`, when given, as `X-Registry-Auth`); progress messages go to `onProgress`. Rejects with a
   * DockerApiError (the engine refused before streaming: 401/403 credentials, 404 unknown manifest)
   * or a DockerPullError (a failure inside the 200 stream).
   */
  pullImage(
    reference: string,
    auth: T.RegistryAuth | undefined,
    onProgress: (message: T.PushMessage) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Why the engine cannot build with BuildKit through the Engine API (Podman's API, an engine
   * older than API 1.39), or undefined when it can.
   */
  buildKitProblem(): Promise<string | undefined>;
  /**
   * Builds a tar context (classic builder, or BuildKit with `params.buildKit`); log lines go to
   * `onLine`; resolves with the image ID.
   */
  build(context: Readable, params: T.BuildParams, onLine: (line: string) => void): Promise<string>;

  /** Creates (does not start) a container; resolves with its ID. */
  createContainer(name: string, spec: T.ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Changes a container's restart policy in place. */
  updateContainer(id: string, body: { RestartPolicy?: { Name: string; MaximumRetryCount?: number } }): Promise<void>;
  /** A container by ID or name, or undefined when missing. */
  inspectContainer(id: string): Promise<T.ContainerInspect | undefined>;
  /** Containers matching Engine API filters (e.g. `{label: ["a=b"]}`), stopped ones included. */
  listContainers(filters: Record<string, string[]>, all?: boolean): Promise<T.ContainerSummary[]>;
  /** Force-removes a container with its anonymous volumes; false when it was already gone. */
  removeContainer(id: string): Promise<boolean>;
  /** The last `tail` lines of a container's output. */
  containerLogs(id: string, tail?: number): Promise<string>;
  /**
   * The container's multiplexed stdout/stderr stream (call before `startContainer`, so that no
   * output is missed); it ends when the container exits.
   */
  attachContainer(id: string, signal?: AbortSignal): Promise<Duplex>;
  /** Resolves with the exit code once the container is no longer running. */
  waitContainer(id: string, signal?: AbortSignal): Promise<number>;

  /** A network by name, or undefined when missing. */
  inspectNetwork(name: string): Promise<T.NetworkInspect | undefined>;
  /** Creates a bridge network with labels; resolves with its ID. */
  createNetwork(name: string, labels: Record<string, string>): Promise<string>;
  removeNetwork(name: string): Promise<void>;
}

/** Makes the engine for a connection. */
export type EngineFactory = (conn?: DockerConnection) => ContainerEngine;

/** The real one: the shared Engine API client for a connection (one pool per engine and process). */
const realEngines: EngineFactory = (conn) => DockerClient.for(conn);
let factory: EngineFactory = realEngines;

/**
 * The one way into a container engine: every provider module gets its engine here (never from
 * `DockerClient` directly), so that a test can put an in-memory engine behind all of them at once.
 */
export function engineFor(conn?: DockerConnection): ContainerEngine {
  return factory(conn);
}

/**
 * Puts `make` behind {@link engineFor} (tests: the in-memory fake); returns the function that puts
 * the real engines back.
 */
export function useEngineFactory(make: EngineFactory): () => void {
  factory = make;
  return () => {
    factory = realEngines;
  };
}
