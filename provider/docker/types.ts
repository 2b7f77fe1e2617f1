// The subset of Docker Engine API shapes this package reads and writes (API 1.41+).

export interface BuildParams {
  tags: string[];
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /** e.g. `host`, so RUN steps reach package indexes on the host's network. */
  networkMode?: string;
  noCache?: boolean;
  platform?: string;
  target?: string;
  signal?: AbortSignal;
  /** Build with BuildKit (`version=2`) instead of the classic builder, with these session services. */
  buildKit?: BuildKitParams;
}

/** What a BuildKit build's session serves. */
export interface BuildKitParams {
  /** Build secrets by id (`RUN --mount=type=secret,id=…`); values never leave the session. */
  secrets?: Record<string, string>;
  /** An SSH agent's socket (`SSH_AUTH_SOCK`) for `RUN --mount=type=ssh` (id `default`). */
  sshAgentSocket?: string;
}

export interface BuildMessage {
  stream?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

/** Credentials for a registry, as the engine expects them in `X-Registry-Auth`. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An OAuth/identity token instead of a password. */
  identitytoken?: string;
  /** The registry, e.g. `127.0.0.1:5000` or `ghcr.io`. */
  serveraddress: string;
}

/** One message of a push stream (`POST /images/{name}/push`). */
export interface PushMessage {
  status?: string;
  /** Layer ID the status is about. */
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  /** `registry/repo@sha256:…` of every registry the image was pushed to or pulled from. */
  RepoDigests?: string[] | null;
  Created: string;
  Size: number;
  Architecture: string;
  Os: string;
  Config: {
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    User?: string;
    Volumes?: Record<string, object> | null;
    WorkingDir?: string;
  };
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  /** `registry/repo@sha256:…` of every registry the image was pushed to or pulled from. */
  RepoDigests?: string[] | null;
  Labels: Record<string, string> | null;
  Created: number;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[];
  Capabilities: string[][];
}

export interface ContainerSpec {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Tty?: boolean;
  /** Attach stdout/stderr (for `attachContainer` before start). */
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  HostConfig?: {
    Init?: boolean;
    PortBindings?: Record<string, PortBinding[]>;
    Binds?: string[];
    RestartPolicy?: { Name: string; MaximumRetryCount?: number };
    Memory?: number;
    DeviceRequests?: DeviceRequest[];
    NetworkMode?: string;
    AutoRemove?: boolean;
    // Typed equivalents of upstream's `docker_args` (provider/serve/container-options.ts).
    ShmSize?: number;
    Ulimits?: { Name: string; Soft: number; Hard: number }[];
    NanoCpus?: number;
    CapAdd?: string[];
    CapDrop?: string[];
    Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
    Tmpfs?: Record<string, string>;
    ExtraHosts?: string[];
    LogConfig?: { Type: string; Config: Record<string, string> };
    IpcMode?: string;
  };
  NetworkingConfig?: {
    EndpointsConfig: Record<string, { Aliases?: string[] }>;
  };
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    OOMKilled: boolean;
  };
  Config: {
    Image: string;
    Env: string[] | null;
    Labels: Record<string, string> | null;
    Cmd: string[] | null;
    Tty: boolean;
    User: string;
  };
  HostConfig: {
    PortBindings?: Record<string, PortBinding[] | null> | null;
    Binds?: string[] | null;
  };
  NetworkSettings: {
    Ports: Record<string, PortBinding[] | null> | null;
    Networks: Record<string, object> | null;
  };
  Mounts: {
    Type: string;
    Name?: string;
    Source: string;
    Destination: string;
  }[];
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
}

export interface NetworkInspect {
  Id: string;
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
}

export interface VolumeSummary {
  Name: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
}
