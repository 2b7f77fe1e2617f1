/**
 * A BuildKit session through the Engine API, as the docker CLI and buildx open one: `POST /session`
 * upgraded to h2c (`X-Docker-Expose-Session-*` headers name the session and the gRPC methods we
 * serve), after which dockerd is the HTTP/2 gRPC client on that connection and we are the server.
 * A build names the session (`POST /build?version=2&session=<id>`) and BuildKit asks it for what
 * the build needs: here build secrets (`moby.buildkit.secrets.v1.Secrets/GetSecret`), the SSH agent
 * for `RUN --mount=type=ssh` (`moby.sshforward.v1.SSH/CheckAgent`, `ForwardAgent`: each agent
 * connection of a step piped to `SSH_AUTH_SOCK`) and the health check its session manager runs
 * (it drops a session that does not answer).
 *
 * Works on every transport the client has (unix socket, tcp, tcp+TLS, ssh through
 * `docker system dial-stdio`): the upgrade only needs the pool's connection as a byte stream.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { connect } from "node:net";
import { Duplex } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import type { Dispatcher } from "undici";
import { bytesField, decodeFields, stringOf, varintField } from "./protobuf";

const GET_SECRET = "/moby.buildkit.secrets.v1.Secrets/GetSecret";
const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const CHECK_AGENT = "/moby.sshforward.v1.SSH/CheckAgent";
const FORWARD_AGENT = "/moby.sshforward.v1.SSH/ForwardAgent";

/** An open session: its id for `POST /build?session=`, and how to end it. */
export interface BuildKitSession {
  id: string;
  /** How many times BuildKit asked for each secret id (for tests and messages; never the values). */
  readonly asked: Map<string, number>;
  close(): Promise<void>;
}

const identity = (b: Buffer) => b;

/**
 * The upgraded connection as a plain byte stream. Node's HTTP/2 server refuses a TLS socket whose
 * handshake negotiated no ALPN protocol (`alpnProtocol === false`: "unknown protocol"), which is
 * what a tcp+TLS engine connection is; h2c runs inside that TLS as on any stream, so a TLS socket
 * is handed over wrapped in a Duplex that only forwards bytes.
 */
function plainStream(socket: Duplex): Duplex {
  if (!(socket as { encrypted?: boolean }).encrypted) return socket;
  const wrapper = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  socket.on("data", (chunk: Buffer) => {
    if (!wrapper.push(chunk)) socket.pause();
  });
  socket.on("end", () => wrapper.push(null));
  socket.on("error", (err) => wrapper.destroy(err));
  socket.on("close", () => wrapper.destroy());
  return wrapper;
}

/** A method of raw protobuf bytes (messages are encoded by hand, `protobuf.ts`); unary unless `streams`. */
function method(path: string, streams = false): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: streams,
    responseStream: streams,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** What a session serves: build secrets, and (for `RUN --mount=type=ssh`) an SSH agent's socket. */
export interface SessionServices {
  secrets: Record<string, string>;
  /** Path of the agent's unix socket (`SSH_AUTH_SOCK`), served as the ssh id `default`. */
  sshAgentSocket?: string;
}

/**
 * Forwards one agent connection of a build step: BuildKit streams `BytesMessage {bytes data = 1}`
 * both ways, which are piped to and from a new connection to the agent's socket.
 */
function forwardAgent(call: grpc.ServerDuplexStream<Buffer, Buffer>, socketPath: string): void {
  const agent = connect(socketPath);
  let done = false;
  const finish = (err?: Error) => {
    if (done) return;
    done = true;
    agent.destroy();
    if (err) call.destroy(err);
    else call.end();
  };
  call.on("data", (msg: Buffer) => {
    try {
      const data = decodeFields(msg).find((f) => f.field === 1)?.bytes;
      if (data?.length) agent.write(data);
    } catch (err) {
      finish(err as Error);
    }
  });
  call.on("end", () => agent.end());
  call.on("error", () => finish());
  // BuildKit cancels the stream when the step's connection to the agent ends, or the build does
  call.on("cancelled", () => finish());
  call.on("close", () => finish());
  agent.on("data", (chunk: Buffer) => call.write(bytesField(1, chunk)));
  agent.on("error", (err) => finish(err));
  agent.on("close", () => finish());
}

/**
 * Opens a session on `pool` (`apiPrefix` is `/v1.41`-like) serving `services`. Rejects when the
 * engine does not upgrade (an engine without BuildKit sessions, e.g. Podman's API).
 */
export async function openBuildKitSession(
  pool: Dispatcher,
  apiPrefix: string,
  services: SessionServices,
  signal?: AbortSignal,
): Promise<BuildKitSession> {
  const { secrets, sshAgentSocket } = services;
  const id = randomUUID().replace(/-/g, "").slice(0, 25);
  const asked = new Map<string, number>();
  const server = new grpc.Server();
  const methods = [GET_SECRET, HEALTH_CHECK, ...(sshAgentSocket ? [CHECK_AGENT, FORWARD_AGENT] : [])];
  server.addService(
    {
      GetSecret: method(GET_SECRET),
      Check: method(HEALTH_CHECK),
      ...(sshAgentSocket ? { CheckAgent: method(CHECK_AGENT), ForwardAgent: method(FORWARD_AGENT, true) } : {}),
    },
    {
      // GetSecretRequest {string ID = 1; map<string,string> annotations = 2} → GetSecretResponse {bytes data = 1}
      GetSecret: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        let secretId = "";
        try {
          secretId = stringOf(decodeFields(call.request), 1);
        } catch {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: "malformed GetSecretRequest" });
          return;
        }
        asked.set(secretId, (asked.get(secretId) ?? 0) + 1);
        if (!Object.hasOwn(secrets, secretId)) {
          callback({ code: grpc.status.NOT_FOUND, details: `secret ${secretId} not found` });
          return;
        }
        callback(null, bytesField(1, Buffer.from(secrets[secretId], "utf8")));
      },
      // HealthCheckResponse {ServingStatus status = 1}: SERVING = 1
      Check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        callback(null, varintField(1, 1));
      },
      // CheckAgentRequest {string ID = 1} → CheckAgentResponse {}: only the id `default` exists
      CheckAgent: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        let id = "";
        try {
          id = stringOf(decodeFields(call.request), 1);
        } catch {
          // malformed: treated as the default id
        }
        if (id && id !== "default") callback({ code: grpc.status.NOT_FOUND, details: `unset ssh forward key ${id}` });
        else callback(null, Buffer.alloc(0));
      },
      ForwardAgent: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        if (sshAgentSocket) forwardAgent(call, sshAgentSocket);
        else call.destroy(new Error("no SSH agent"));
      },
    },
  );
  const { socket } = await pool.upgrade({
    path: `${apiPrefix}/session`,
    method: "POST",
    protocol: "h2c",
    signal,
    headers: {
      "X-Docker-Expose-Session-Uuid": id,
      "X-Docker-Expose-Session-Name": "pulumi-tesseract",
      "X-Docker-Expose-Session-Sharedkey": randomBytes(16).toString("hex"),
      "X-Docker-Expose-Session-Grpc-Method": methods,
    },
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  injector.injectConnection(plainStream(socket));
  let closed = false;
  return {
    id,
    asked,
    async close() {
      if (closed) return;
      closed = true;
      injector.destroy();
      server.forceShutdown();
      socket.destroy();
    },
  };
}
