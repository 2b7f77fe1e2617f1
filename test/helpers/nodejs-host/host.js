#!/usr/bin/env node
// A stand-in for Pulumi's Node.js language host, `pulumi-language-nodejs`, for this machine only.
//
// Why: the real host is a Go program that Pulumi's download site ships and whose Go module the
// module proxy refuses here (/work/shared/reference/pulumi-runtimes.md), so `pulumi up` on a
// Node.js project cannot run on the test machines. Everything that decides what a Node.js stack
// does lives in @pulumi/pulumi's own `cmd/run` entry (program resolution, ts-node with the
// project's tsconfig and TypeScript, config, the resource monitor); the real host's `Run` only
// locates that entry in the project's node_modules and starts it with the engine's flags. This file
// does the same over the same gRPC protocol (LanguageRuntime), so the tests can run the real
// `pulumi up` / `preview` / `destroy` in a project folder, with the real CLI, display and engine,
// exactly as a user's machine would.
//
// What it does not do (not needed by the tests): dependency installation (`pulumi install`),
// `pulumi about`'s dependency list, templates, code generation, packing, debugging.

const { spawn, execFileSync } = require("node:child_process");
const grpc = require("@grpc/grpc-js");
const language = require("@pulumi/pulumi/proto/language_pb");
const languageGrpc = require("@pulumi/pulumi/proto/language_grpc_pb");
const pluginPb = require("@pulumi/pulumi/proto/plugin_pb");

/** The exit code with which @pulumi/pulumi's `run` says it has already reported the error. */
const LOGGED_ERROR_EXIT = 32;

const engineAddress =
  process.argv
    .slice(2)
    .filter((a) => !a.startsWith("-"))
    .pop() ?? "";

/** The runtime options of Pulumi.yaml (`runtime.options`) as a plain object. */
function runtimeOptions(info) {
  const options = info?.getOptions?.();
  return options ? options.toJavaScript() : {};
}

/** `@pulumi/pulumi/cmd/run` as the project's own node would resolve it from the program folder. */
function locateRun(programDir) {
  return execFileSync(process.execPath, ["-e", "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/run'))"], {
    cwd: programDir,
    encoding: "utf8",
  });
}

function run(call, callback) {
  const req = call.request;
  const info = req.getInfo();
  const programDir = info?.getProgramDirectory() || req.getPwd();
  const entry = info?.getEntryPoint() || req.getProgram() || ".";
  const options = runtimeOptions(info);
  const response = new language.RunResponse();
  let runPath;
  try {
    runPath = locateRun(programDir);
  } catch (err) {
    response.setError(
      `It looks like the Pulumi SDK has not been installed. Have you run npm install or yarn install?\n${err}`,
    );
    return callback(null, response);
  }
  const config = {};
  req.getConfigMap().forEach((value, key) => {
    config[key] = value;
  });
  const args = [
    ...String(options.nodeargs ?? "")
      .split(/\s+/)
      .filter(Boolean),
    runPath,
    `--monitor=${req.getMonitorAddress()}`,
    `--engine=${engineAddress}`,
    `--organization=${req.getOrganization()}`,
    `--project=${req.getProject()}`,
    `--root-directory=${info?.getRootDirectory() || programDir}`,
    `--stack=${req.getStack()}`,
    `--pwd=${programDir}`,
    `--parallel=${req.getParallel()}`,
    ...(req.getDryrun() ? ["--dry-run"] : []),
    entry,
    ...req.getArgsList(),
  ];
  const env = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
    // Runtime options, with the host's defaults: TypeScript on unless `typescript: false`.
    PULUMI_NODEJS_TYPESCRIPT: String(options.typescript !== false),
  };
  if (typeof options.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  const child = spawn(process.execPath, args, { cwd: programDir, env, stdio: ["ignore", "inherit", "inherit"] });
  child.on("error", (err) => {
    response.setError(`cannot start node: ${err.message}`);
    callback(null, response);
  });
  child.on("exit", (code, signal) => {
    if (code === LOGGED_ERROR_EXIT) response.setBail(true);
    else if (code !== 0) response.setError(`Program exited with non-zero exit code: ${code ?? signal}`);
    callback(null, response);
  });
}

const service = {
  handshake(_call, callback) {
    callback(null, new language.LanguageHandshakeResponse());
  },
  getRequiredPlugins(_call, callback) {
    callback(null, new language.GetRequiredPluginsResponse());
  },
  getRequiredPackages(_call, callback) {
    callback(null, new language.GetRequiredPackagesResponse());
  },
  run,
  getPluginInfo(_call, callback) {
    const info = new pluginPb.PluginInfo();
    info.setVersion(require("@pulumi/pulumi/package.json").version);
    callback(null, info);
  },
};
const unimplemented = (_call, callback) =>
  callback({ code: grpc.status.UNIMPLEMENTED, details: "not in this stand-in host" });
const server = new grpc.Server();
const impl = {};
for (const name of Object.keys(languageGrpc.LanguageRuntimeService)) impl[name] = service[name] ?? unimplemented;
server.addService(languageGrpc.LanguageRuntimeService, impl);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`${err}\n`);
    process.exit(1);
  }
  process.stdout.write(`${port}\n`);
});
