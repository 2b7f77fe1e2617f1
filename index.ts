// The main job: build the example Tesseracts, serve them, call them from the stack, and collect a
// Fractal task group locally. Run with `npm run up` (README); `npm run up -- destroy` removes it all.
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  applyOutput,
  hostCaCertificates,
  jacobianOutput,
  TaskGroup,
  TesseractImage,
  TesseractService,
  vectorJacobianProductOutput,
} from "pulumi-tesseract";

const config = new pulumi.Config();
const tesseracts = join(__dirname, "examples", "tesseracts");

const buildOptions = {
  // Builds behind a TLS-intercepting proxy must trust its CA: the host's extra CAs, if any.
  caCertificates: hostCaCertificates(),
  // RUN steps reach package indexes (and a proxy on the host) through the host's network.
  buildNetwork: config.get("buildNetwork") ?? "host",
};

// ---- images ------------------------------------------------------------------------------------
const images = Object.fromEntries(
  ["hello", "vectoradd", "packaged", "calculus"].map((name) => [
    name,
    new TesseractImage(name, { srcDir: join(tesseracts, name), ...buildOptions }),
  ]),
) as Record<"hello" | "vectoradd" | "packaged" | "calculus", TesseractImage>;

// ---- services ----------------------------------------------------------------------------------
// Seconds each container has to answer GET /health: the default 30 is short for a busy 2-core
// machine bringing up five containers at once (config `startupTimeout`).
const startupTimeout = config.getNumber("startupTimeout") ?? 120;
const hello = new TesseractService("hello", { image: images.hello.imageName, startupTimeout });
const packaged = new TesseractService("packaged", { image: images.packaged.imageName, startupTimeout });
const vectoradd = new TesseractService("vectoradd", { image: images.vectoradd.imageName, startupTimeout });
const calculus = new TesseractService("calculus", {
  image: images.calculus.imageName,
  startupTimeout,
  replicas: config.getNumber("calculusReplicas") ?? 2,
});

// ---- calls from the stack ----------------------------------------------------------------------
const a = [1, 2, 3];
const b = [10, 20, 30];
const vectoraddResult = applyOutput({ url: vectoradd.url, inputs: { a, b, s: 2 } });
const calculusJacobian = jacobianOutput({
  url: calculus.url,
  inputs: { a, b, s: 0.5 },
  jacInputs: ["a", "s"],
  jacOutputs: ["result", "norm"],
});
const calculusVjp = vectorJacobianProductOutput({
  url: calculus.url,
  inputs: { a, b, s: 0.5 },
  vjpInputs: ["a", "b"],
  vjpOutputs: ["result"],
  cotangentVector: { result: [1, 1, 1] },
});
const helloGreeting = applyOutput({ url: hello.url, inputs: { name: "pulumi" } });

// ---- Fractal -------------------------------------------------------------------------------------
const fractalTasks = new TaskGroup("fractal-mock-tasks", {
  pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
  backend: "local",
});

export const imageNames = pulumi.all(Object.values(images).map((i) => i.imageName)).apply((names) => names);
export const urls = { hello: hello.url, packaged: packaged.url, vectoradd: vectoradd.url, calculus: calculus.urls };
export const greeting = helloGreeting.outputs;
export const vectoraddOutputs = vectoraddResult.outputs;
export const jacobian = calculusJacobian.jacobian;
export const vjp = calculusVjp;
export const fractalTaskNames = fractalTasks.tasks.apply((ts) => ts.map((t) => `${t.name} (${t.type})`));
export const fractalVenv = fractalTasks.venvPath;
